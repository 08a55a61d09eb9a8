import { DisposedTensorError, InvalidArgumentError, ShapeMismatchError } from '../errors';
import { assertValidShape, broadcastShapes, normalizeAxes, shapesEqual, sizeOf, stridesOf } from './shape';
import {
  BACKEND_API_VERSION,
  type BinaryOp,
  type LinearTerm,
  type ReduceOp,
  type Shape,
  type Tensor,
  type TensorBackend,
  type UnaryOp,
} from './tensor';

/** A tensor whose data is a Float32Array in JS memory. */
export class ReferenceTensor implements Tensor {
  readonly dtype = 'float32' as const;
  readonly size: number;
  #values: Float32Array | null;

  constructor(
    readonly backend: ReferenceBackend,
    values: Float32Array,
    readonly shape: Shape,
  ) {
    this.size = values.length;
    this.#values = values;
  }

  get isDisposed(): boolean {
    return this.#values === null;
  }

  /** The live storage (no copy). Internal to the reference backend and its tests. */
  get values(): Float32Array {
    if (this.#values === null) throw new DisposedTensorError(this.shape, this.backend.name);
    return this.#values;
  }

  async data(): Promise<Float32Array> {
    return this.values.slice();
  }

  dispose(): void {
    this.#values = null;
  }
}

const UNARY: Record<UnaryOp, (v: number) => number> = {
  neg: (v) => -v,
  abs: Math.abs,
  sqrt: Math.sqrt,
  exp: Math.exp,
  log: Math.log,
  square: (v) => v * v,
  sign: Math.sign,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: Math.max,
  minimum: Math.min,
  pow: Math.pow,
};

/**
 * The pure-TypeScript backend: the default, and the oracle every other backend
 * is tested against. Results are stored as float32 after each op, as torch does.
 */
export class ReferenceBackend implements TensorBackend {
  readonly name = 'reference';
  readonly apiVersion = BACKEND_API_VERSION;
  readonly capabilities = { gradients: false, location: 'cpu' } as const;

  #own(x: Tensor): ReferenceTensor {
    if (!(x instanceof ReferenceTensor) || x.backend !== this) {
      throw new InvalidArgumentError(
        `tensor from backend "${x.backend.name}" passed to the reference backend`,
      );
    }
    return x;
  }

  #make(values: Float32Array, shape: Shape): ReferenceTensor {
    return new ReferenceTensor(this, values, [...shape]);
  }

  fromData(data: Float32Array, shape: Shape): Tensor {
    assertValidShape(shape);
    if (sizeOf(shape) !== data.length) {
      throw new ShapeMismatchError(
        `data of length ${data.length} does not fit shape`,
        [data.length],
        [...shape],
      );
    }
    return this.#make(Float32Array.from(data), shape);
  }

  async read(x: Tensor): Promise<Float32Array> {
    return this.#own(x).values.slice();
  }

  readSync(x: Tensor): Float32Array {
    return this.#own(x).values.slice();
  }

  fill(shape: Shape, value: number): Tensor {
    assertValidShape(shape);
    return this.#make(new Float32Array(sizeOf(shape)).fill(value), shape);
  }

  unary(op: UnaryOp, x: Tensor): Tensor {
    const src = this.#own(x).values;
    const f = UNARY[op];
    const out = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = f(src[i] as number);
    return this.#make(out, x.shape);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor | number): Tensor {
    const av = this.#own(a).values;
    const f = BINARY[op];
    if (typeof b === 'number') {
      const out = new Float32Array(av.length);
      for (let i = 0; i < av.length; i++) out[i] = f(av[i] as number, b);
      return this.#make(out, a.shape);
    }
    const bv = this.#own(b).values;
    if (shapesEqual(a.shape, b.shape)) {
      const out = new Float32Array(av.length);
      for (let i = 0; i < av.length; i++) out[i] = f(av[i] as number, bv[i] as number);
      return this.#make(out, a.shape);
    }
    const shape = broadcastShapes(a.shape, b.shape);
    const ia = broadcastIndex(a.shape, shape);
    const ib = broadcastIndex(b.shape, shape);
    const out = new Float32Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++)
      out[i] = f(av[ia[i] as number] as number, bv[ib[i] as number] as number);
    return this.#make(out, shape);
  }

  linearCombination(terms: readonly LinearTerm[], bias = 0): Tensor {
    const first = terms[0];
    if (!first) throw new InvalidArgumentError('linearCombination needs at least one term');
    const shape = first[1].shape;
    const arrays = terms.map(([, t]) => {
      if (!shapesEqual(t.shape, shape)) {
        throw new ShapeMismatchError(
          'linearCombination terms must share one shape',
          [...shape],
          [...t.shape],
        );
      }
      return this.#own(t).values;
    });
    const n = sizeOf(shape);
    const out = new Float32Array(n);
    // Accumulate in float64, store once: as fast as possible and at least as accurate as torch.
    if (terms.length === 2) {
      const c0 = first[0];
      const c1 = (terms[1] as LinearTerm)[0];
      const x0 = arrays[0] as Float32Array;
      const x1 = arrays[1] as Float32Array;
      for (let i = 0; i < n; i++) out[i] = c0 * (x0[i] as number) + c1 * (x1[i] as number) + bias;
      return this.#make(out, shape);
    }
    const acc = new Float64Array(n).fill(bias);
    for (let k = 0; k < terms.length; k++) {
      const c = (terms[k] as LinearTerm)[0];
      const x = arrays[k] as Float32Array;
      for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) + c * (x[i] as number);
    }
    out.set(acc);
    return this.#make(out, shape);
  }

  clip(x: Tensor, min: number, max: number): Tensor {
    const src = this.#own(x).values;
    const out = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i] as number;
      out[i] = v < min ? min : v > max ? max : v;
    }
    return this.#make(out, x.shape);
  }

  reduce(op: ReduceOp, x: Tensor, axes?: readonly number[], keepDims = false): Tensor {
    const src = this.#own(x).values;
    const rank = x.shape.length;
    const red = new Set(normalizeAxes(axes, rank));
    const keptShape = x.shape.map((d, i) => (red.has(i) ? 1 : d));
    const outShape = keepDims ? keptShape : x.shape.filter((_, i) => !red.has(i));
    const outSize = sizeOf(keptShape);
    const count = outSize === 0 ? 0 : src.length / outSize;
    const acc = new Float64Array(outSize).fill(op === 'max' ? -Infinity : op === 'min' ? Infinity : 0);
    const idx = broadcastIndex(keptShape, x.shape);
    for (let i = 0; i < src.length; i++) {
      const j = idx[i] as number;
      const v = src[i] as number;
      if (op === 'max') acc[j] = Math.max(acc[j] as number, v);
      else if (op === 'min') acc[j] = Math.min(acc[j] as number, v);
      else acc[j] = (acc[j] as number) + v;
    }
    if (op === 'mean') for (let j = 0; j < outSize; j++) acc[j] = (acc[j] as number) / count;
    return this.#make(Float32Array.from(acc), outShape);
  }

  reshape(x: Tensor, shape: Shape): Tensor {
    assertValidShape(shape);
    if (sizeOf(shape) !== x.size) {
      throw new ShapeMismatchError(`cannot reshape ${x.size} elements`, [...shape], [...x.shape]);
    }
    return this.#make(this.#own(x).values.slice(), shape);
  }

  transpose(x: Tensor, perm: readonly number[]): Tensor {
    const src = this.#own(x).values;
    const rank = x.shape.length;
    if (perm.length !== rank || new Set(perm).size !== rank || perm.some((p) => p < 0 || p >= rank)) {
      throw new InvalidArgumentError(
        `transpose: perm [${perm.join(', ')}] is not a permutation of ${rank} axes`,
      );
    }
    const outShape = perm.map((p) => x.shape[p] as number);
    const inStrides = stridesOf(x.shape);
    const permStrides = perm.map((p) => inStrides[p] as number);
    const out = new Float32Array(src.length);
    const counter = new Array<number>(rank).fill(0);
    let offset = 0;
    for (let i = 0; i < out.length; i++) {
      out[i] = src[offset] as number;
      for (let d = rank - 1; d >= 0; d--) {
        counter[d] = (counter[d] as number) + 1;
        offset += permStrides[d] as number;
        if ((counter[d] as number) < (outShape[d] as number)) break;
        offset -= (permStrides[d] as number) * (outShape[d] as number);
        counter[d] = 0;
      }
    }
    return this.#make(out, outShape);
  }

  slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
    const src = this.#own(x).values;
    const rank = x.shape.length;
    if (begin.length !== rank || size.length !== rank) {
      throw new InvalidArgumentError(`slice: begin and size need ${rank} entries for a rank-${rank} tensor`);
    }
    const outShape = size.map((s, i) => (s < 0 ? (x.shape[i] as number) - (begin[i] as number) : s));
    outShape.forEach((s, i) => {
      if ((begin[i] as number) < 0 || (begin[i] as number) + s > (x.shape[i] as number)) {
        throw new InvalidArgumentError(
          `slice: [${begin[i]}, ${(begin[i] as number) + s}) is out of range for axis ${i} of size ${x.shape[i]}`,
        );
      }
    });
    const strides = stridesOf(x.shape);
    const out = new Float32Array(sizeOf(outShape));
    const inner = outShape[rank - 1] ?? 1;
    const outer = rank === 0 ? 1 : out.length / Math.max(inner, 1);
    const counter = new Array<number>(Math.max(rank - 1, 0)).fill(0);
    for (let o = 0; o < outer && inner > 0; o++) {
      let offset = rank === 0 ? 0 : (begin[rank - 1] as number);
      for (let d = 0; d < rank - 1; d++)
        offset += ((begin[d] as number) + (counter[d] as number)) * (strides[d] as number);
      out.set(src.subarray(offset, offset + inner), o * inner);
      for (let d = rank - 2; d >= 0; d--) {
        counter[d] = (counter[d] as number) + 1;
        if ((counter[d] as number) < (outShape[d] as number)) break;
        counter[d] = 0;
      }
    }
    return this.#make(out, outShape);
  }

  concat(xs: readonly Tensor[], axis: number): Tensor {
    const first = xs[0];
    if (!first) throw new InvalidArgumentError('concat needs at least one tensor');
    const rank = first.shape.length;
    const [ax] = normalizeAxes([axis], rank) as [number];
    for (const t of xs) {
      if (t.shape.length !== rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
        throw new ShapeMismatchError(
          `concat along axis ${ax}: shapes differ off that axis`,
          [...first.shape],
          [...t.shape],
        );
      }
    }
    const outShape = [...first.shape];
    outShape[ax] = xs.reduce((s, t) => s + (t.shape[ax] as number), 0);
    const outer = sizeOf(first.shape.slice(0, ax));
    const innerOf = (t: Tensor) => sizeOf(t.shape.slice(ax));
    const out = new Float32Array(sizeOf(outShape));
    let pos = 0;
    for (let o = 0; o < outer; o++) {
      for (const t of xs) {
        const inner = innerOf(t);
        out.set(this.#own(t).values.subarray(o * inner, (o + 1) * inner), pos);
        pos += inner;
      }
    }
    return this.#make(out, outShape);
  }

  stopGradient(x: Tensor): Tensor {
    return this.clone(x);
  }

  clone(x: Tensor): Tensor {
    return this.#make(this.#own(x).values.slice(), x.shape);
  }
}

/** For each flat index of `outShape`, the flat index into a tensor of `inShape` broadcast to it. */
function broadcastIndex(inShape: Shape, outShape: Shape): Int32Array {
  const rank = outShape.length;
  const padded = [...new Array<number>(rank - inShape.length).fill(1), ...inShape];
  const inStrides = stridesOf(padded).map((s, i) => ((padded[i] as number) === 1 ? 0 : s));
  const n = sizeOf(outShape);
  const idx = new Int32Array(n);
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = offset;
    for (let d = rank - 1; d >= 0; d--) {
      counter[d] = (counter[d] as number) + 1;
      offset += inStrides[d] as number;
      if ((counter[d] as number) < (outShape[d] as number)) break;
      offset -= (inStrides[d] as number) * (outShape[d] as number);
      counter[d] = 0;
    }
  }
  return idx;
}

/** The process-wide default backend. Stateless, so sharing it is safe. */
export const referenceBackend = new ReferenceBackend();
