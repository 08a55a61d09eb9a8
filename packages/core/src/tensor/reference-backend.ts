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

/**
 * Storage recycling. A denoising loop creates and disposes same-sized tensors every step; fresh
 * large typed arrays cost zero-filling, page faults and GC work that rival the math itself, so
 * disposed storage is kept (bounded) and handed to the next tensor of that length. Only arrays
 * this backend allocated are recycled, never ones wrapped from elsewhere (e.g. runtime outputs).
 * Recycled arrays are not zeroed: every op writes all of its output.
 */
const POOL_MIN_LENGTH = 1024;
const POOL_MAX_BYTES = 64 * 1024 * 1024;
const POOL_MAX_PER_LENGTH = 8;
const pool = new Map<number, Float32Array[]>();
const allocated = new WeakSet<Float32Array>();
let pooledBytes = 0;

function takeStorage(length: number): Float32Array {
  if (length < POOL_MIN_LENGTH) return new Float32Array(length);
  const reused = pool.get(length)?.pop();
  if (reused) {
    pooledBytes -= reused.byteLength;
    return reused;
  }
  const fresh = new Float32Array(length);
  allocated.add(fresh);
  return fresh;
}

function recycleStorage(values: Float32Array): void {
  if (!allocated.has(values) || pooledBytes + values.byteLength > POOL_MAX_BYTES) return;
  let free = pool.get(values.length);
  if (!free) {
    free = [];
    pool.set(values.length, free);
  }
  if (free.length >= POOL_MAX_PER_LENGTH) return;
  free.push(values);
  pooledBytes += values.byteLength;
}

function copyOf(values: Float32Array): Float32Array {
  const out = takeStorage(values.length);
  out.set(values);
  return out;
}

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

  /**
   * The live storage (no copy). Internal to the reference backend, its tests and zero-copy
   * runtime feeds; valid until dispose(), after which the array may back another tensor.
   */
  get values(): Float32Array {
    if (this.#values === null) throw new DisposedTensorError(this.shape, this.backend.name);
    return this.#values;
  }

  async data(): Promise<Float32Array> {
    return this.values.slice();
  }

  dispose(): void {
    if (this.#values !== null) recycleStorage(this.#values);
    this.#values = null;
  }
}

/** out[i] = op(src[i]). One loop per op, so each stays monomorphic and inlinable. */
function unaryKernel(op: UnaryOp, src: Float32Array, out: Float32Array): void {
  const n = out.length;
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -(src[i] as number);
      return;
    case 'abs':
      for (let i = 0; i < n; i++) out[i] = Math.abs(src[i] as number);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(src[i] as number);
      return;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(src[i] as number);
      return;
    case 'log':
      for (let i = 0; i < n; i++) out[i] = Math.log(src[i] as number);
      return;
    case 'square':
      for (let i = 0; i < n; i++) {
        const v = src[i] as number;
        out[i] = v * v;
      }
      return;
    case 'sign':
      for (let i = 0; i < n; i++) out[i] = Math.sign(src[i] as number);
      return;
    case 'sin':
      for (let i = 0; i < n; i++) out[i] = Math.sin(src[i] as number);
      return;
    case 'cos':
      for (let i = 0; i < n; i++) out[i] = Math.cos(src[i] as number);
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = Math.tanh(src[i] as number);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-(src[i] as number)));
      return;
    default:
      throw new InvalidArgumentError(`unknown unary op ${JSON.stringify(op)}`);
  }
}

/**
 * out[outPos + i] = op(a[offA + i·strideA], b[offB + i·strideB]) for i < count, strides 0 (a
 * broadcast operand) or 1. A scalar operand comes as a one-element Float64Array with stride 0, so
 * it is used at full precision. Each op and stride pattern gets its own loop: with the operand
 * pattern fixed, V8 compiles each to plain indexed loads, about twice as fast as strided indexing.
 */
function binaryKernel(
  op: BinaryOp,
  out: Float32Array,
  outPos: number,
  a: Float32Array,
  offA: number,
  strideA: number,
  b: Float32Array | Float64Array,
  offB: number,
  strideB: number,
  count: number,
): void {
  const end = outPos + count;
  const da = offA - outPos;
  const db = offB - outPos;
  if (strideA === 1 && strideB === 1) {
    switch (op) {
      case 'add':
        for (let i = outPos; i < end; i++) out[i] = (a[i + da] as number) + (b[i + db] as number);
        return;
      case 'sub':
        for (let i = outPos; i < end; i++) out[i] = (a[i + da] as number) - (b[i + db] as number);
        return;
      case 'mul':
        for (let i = outPos; i < end; i++) out[i] = (a[i + da] as number) * (b[i + db] as number);
        return;
      case 'div':
        for (let i = outPos; i < end; i++) out[i] = (a[i + da] as number) / (b[i + db] as number);
        return;
    }
  } else if (strideA === 1 && strideB === 0) {
    const y = b[offB] as number;
    switch (op) {
      case 'add':
        for (let i = outPos; i < end; i++) out[i] = (a[i + da] as number) + y;
        return;
      case 'sub':
        for (let i = outPos; i < end; i++) out[i] = (a[i + da] as number) - y;
        return;
      case 'mul':
        for (let i = outPos; i < end; i++) out[i] = (a[i + da] as number) * y;
        return;
      case 'div':
        for (let i = outPos; i < end; i++) out[i] = (a[i + da] as number) / y;
        return;
    }
  } else if (strideA === 0 && strideB === 1) {
    const x = a[offA] as number;
    switch (op) {
      case 'add':
        for (let i = outPos; i < end; i++) out[i] = x + (b[i + db] as number);
        return;
      case 'sub':
        for (let i = outPos; i < end; i++) out[i] = x - (b[i + db] as number);
        return;
      case 'mul':
        for (let i = outPos; i < end; i++) out[i] = x * (b[i + db] as number);
        return;
      case 'div':
        for (let i = outPos; i < end; i++) out[i] = x / (b[i + db] as number);
        return;
    }
  }
  // The rarer ops (and both operands broadcast): one strided loop per op.
  switch (op) {
    case 'add':
      for (let i = 0; i < count; i++)
        out[outPos + i] = (a[offA + i * strideA] as number) + (b[offB + i * strideB] as number);
      return;
    case 'sub':
      for (let i = 0; i < count; i++)
        out[outPos + i] = (a[offA + i * strideA] as number) - (b[offB + i * strideB] as number);
      return;
    case 'mul':
      for (let i = 0; i < count; i++)
        out[outPos + i] = (a[offA + i * strideA] as number) * (b[offB + i * strideB] as number);
      return;
    case 'div':
      for (let i = 0; i < count; i++)
        out[outPos + i] = (a[offA + i * strideA] as number) / (b[offB + i * strideB] as number);
      return;
    case 'maximum':
      for (let i = 0; i < count; i++)
        out[outPos + i] = Math.max(a[offA + i * strideA] as number, b[offB + i * strideB] as number);
      return;
    case 'minimum':
      for (let i = 0; i < count; i++)
        out[outPos + i] = Math.min(a[offA + i * strideA] as number, b[offB + i * strideB] as number);
      return;
    case 'pow':
      for (let i = 0; i < count; i++)
        out[outPos + i] = (a[offA + i * strideA] as number) ** (b[offB + i * strideB] as number);
      return;
    default:
      throw new InvalidArgumentError(`unknown binary op ${JSON.stringify(op)}`);
  }
}

/**
 * The iteration plan of a broadcast: the output's axes with size-1 axes dropped and neighbours
 * merged wherever both operands stay contiguous (or both broadcast) across them, and each
 * operand's stride per merged axis (0 where it is broadcast).
 */
function broadcastPlan(
  aShape: Shape,
  bShape: Shape,
  outShape: Shape,
): { dims: number[]; stridesA: number[]; stridesB: number[] } {
  const rank = outShape.length;
  const stridesFor = (shape: Shape) => {
    const padded = [...new Array<number>(rank - shape.length).fill(1), ...shape];
    return stridesOf(padded).map((s, i) => ((padded[i] as number) === 1 ? 0 : s));
  };
  const fullA = stridesFor(aShape);
  const fullB = stridesFor(bShape);
  const dims: number[] = [];
  const stridesA: number[] = [];
  const stridesB: number[] = [];
  for (let d = 0; d < rank; d++) {
    const size = outShape[d] as number;
    if (size === 1) continue;
    const sa = fullA[d] as number;
    const sb = fullB[d] as number;
    const last = dims.length - 1;
    // Axis d continues the previous merged axis when stepping it is the same as stepping d `size` times.
    if (last >= 0 && stridesA[last] === sa * size && stridesB[last] === sb * size) {
      dims[last] = (dims[last] as number) * size;
      stridesA[last] = sa;
      stridesB[last] = sb;
    } else {
      dims.push(size);
      stridesA.push(sa);
      stridesB.push(sb);
    }
  }
  if (dims.length === 0) return { dims: [1], stridesA: [0], stridesB: [0] };
  return { dims, stridesA, stridesB };
}

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
    return this.#make(copyOf(data), shape);
  }

  async read(x: Tensor): Promise<Float32Array> {
    return this.#own(x).values.slice();
  }

  readSync(x: Tensor): Float32Array {
    return this.#own(x).values.slice();
  }

  fill(shape: Shape, value: number): Tensor {
    assertValidShape(shape);
    return this.#make(takeStorage(sizeOf(shape)).fill(value), shape);
  }

  unary(op: UnaryOp, x: Tensor): Tensor {
    const src = this.#own(x).values;
    const out = takeStorage(src.length);
    unaryKernel(op, src, out);
    return this.#make(out, x.shape);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor | number): Tensor {
    const av = this.#own(a).values;
    if (typeof b === 'number') {
      const out = takeStorage(av.length);
      binaryKernel(op, out, 0, av, 0, 1, Float64Array.of(b), 0, 0, av.length);
      return this.#make(out, a.shape);
    }
    const bv = this.#own(b).values;
    if (shapesEqual(a.shape, b.shape)) {
      const out = takeStorage(av.length);
      binaryKernel(op, out, 0, av, 0, 1, bv, 0, 1, av.length);
      return this.#make(out, a.shape);
    }
    const shape = broadcastShapes(a.shape, b.shape);
    const out = takeStorage(sizeOf(shape));
    if (out.length === 0) return this.#make(out, shape);
    // Walk the output in runs along its innermost (merged) axis, each operand read with stride 0 or 1.
    const { dims, stridesA, stridesB } = broadcastPlan(a.shape, b.shape, shape);
    const rank = dims.length;
    const run = dims[rank - 1] as number;
    const runA = stridesA[rank - 1] as number;
    const runB = stridesB[rank - 1] as number;
    const counter = new Array<number>(rank).fill(0);
    let offA = 0;
    let offB = 0;
    for (let pos = 0; pos < out.length; pos += run) {
      binaryKernel(op, out, pos, av, offA, runA, bv, offB, runB, run);
      for (let d = rank - 2; d >= 0; d--) {
        counter[d] = (counter[d] as number) + 1;
        offA += stridesA[d] as number;
        offB += stridesB[d] as number;
        if ((counter[d] as number) < (dims[d] as number)) break;
        offA -= (stridesA[d] as number) * (dims[d] as number);
        offB -= (stridesB[d] as number) * (dims[d] as number);
        counter[d] = 0;
      }
    }
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
    const out = takeStorage(sizeOf(shape));
    // Accumulate in float64, store once: as fast as possible and at least as accurate as torch.
    // Loops bounded by out.length (not a separate count) let V8 drop most bounds checks.
    const c0 = first[0];
    const x0 = arrays[0] as Float32Array;
    if (terms.length === 1) {
      for (let i = 0; i < out.length; i++) out[i] = bias + c0 * (x0[i] as number);
    } else if (terms.length === 2) {
      const c1 = (terms[1] as LinearTerm)[0];
      const x1 = arrays[1] as Float32Array;
      for (let i = 0; i < out.length; i++) out[i] = c0 * (x0[i] as number) + c1 * (x1[i] as number) + bias;
    } else if (terms.length === 3) {
      const c1 = (terms[1] as LinearTerm)[0];
      const c2 = (terms[2] as LinearTerm)[0];
      const x1 = arrays[1] as Float32Array;
      const x2 = arrays[2] as Float32Array;
      for (let i = 0; i < out.length; i++) {
        out[i] = bias + c0 * (x0[i] as number) + c1 * (x1[i] as number) + c2 * (x2[i] as number);
      }
    } else {
      const coefficients = terms.map(([c]) => c);
      for (let i = 0; i < out.length; i++) {
        let acc = bias;
        for (let k = 0; k < arrays.length; k++) {
          acc += (coefficients[k] as number) * ((arrays[k] as Float32Array)[i] as number);
        }
        out[i] = acc;
      }
    }
    return this.#make(out, shape);
  }

  clip(x: Tensor, min: number, max: number): Tensor {
    const src = this.#own(x).values;
    const out = takeStorage(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i] as number;
      out[i] = v < min ? min : v > max ? max : v;
    }
    return this.#make(out, x.shape);
  }

  reduce(op: ReduceOp, x: Tensor, axes?: readonly number[], keepDims = false): Tensor {
    const src = this.#own(x).values;
    const rank = x.shape.length;
    const reduced = normalizeAxes(axes, rank);
    const red = new Set(reduced);
    const keptShape = x.shape.map((d, i) => (red.has(i) ? 1 : d));
    const outShape = keepDims ? keptShape : x.shape.filter((_, i) => !red.has(i));
    const outSize = sizeOf(keptShape);
    const count = outSize === 0 ? 0 : src.length / outSize;
    const acc = new Float64Array(outSize).fill(op === 'max' ? -Infinity : op === 'min' ? Infinity : 0);
    const lo = Math.min(...reduced);
    const hi = Math.max(...reduced);
    if (red.size > 0 && hi - lo + 1 === red.size) {
      // The reduced axes are adjacent: view x as [outer, count, inner] and skip the index map.
      // Each output still takes its inputs in flat order, so sums round exactly as below.
      reduceBlocks(op, src, acc, count, sizeOf(x.shape.slice(hi + 1)));
    } else {
      const idx = broadcastIndex(keptShape, x.shape);
      for (let i = 0; i < src.length; i++) {
        const j = idx[i] as number;
        const v = src[i] as number;
        if (op === 'max') acc[j] = Math.max(acc[j] as number, v);
        else if (op === 'min') acc[j] = Math.min(acc[j] as number, v);
        else acc[j] = (acc[j] as number) + v;
      }
    }
    if (op === 'mean') for (let j = 0; j < outSize; j++) acc[j] = (acc[j] as number) / count;
    const out = takeStorage(acc.length);
    out.set(acc);
    return this.#make(out, outShape);
  }

  reshape(x: Tensor, shape: Shape): Tensor {
    assertValidShape(shape);
    if (sizeOf(shape) !== x.size) {
      throw new ShapeMismatchError(`cannot reshape ${x.size} elements`, [...shape], [...x.shape]);
    }
    return this.#make(copyOf(this.#own(x).values), shape);
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
    const out = takeStorage(src.length);
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
    const out = takeStorage(sizeOf(outShape));
    if (out.length === 0) return this.#make(out, outShape);
    // Trailing axes taken whole make one contiguous block per position of the axes before them.
    let blockAxis = rank - 1;
    while (
      blockAxis > 0 &&
      (begin[blockAxis] as number) === 0 &&
      outShape[blockAxis] === x.shape[blockAxis]
    ) {
      blockAxis--;
    }
    const strides = stridesOf(x.shape);
    const block = rank === 0 ? 1 : (outShape[blockAxis] as number) * (strides[blockAxis] as number);
    const counter = new Array<number>(Math.max(blockAxis, 0)).fill(0);
    for (let pos = 0; pos < out.length; pos += block) {
      let offset = rank === 0 ? 0 : (begin[blockAxis] as number) * (strides[blockAxis] as number);
      for (let d = 0; d < blockAxis; d++)
        offset += ((begin[d] as number) + (counter[d] as number)) * (strides[d] as number);
      out.set(src.subarray(offset, offset + block), pos);
      for (let d = blockAxis - 1; d >= 0; d--) {
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
    const out = takeStorage(sizeOf(outShape));
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
    return this.#make(copyOf(this.#own(x).values), x.shape);
  }
}

/** Reduces src viewed as [outer, count, inner] over its middle axis into acc ([outer, inner]). */
function reduceBlocks(
  op: ReduceOp,
  src: Float32Array,
  acc: Float64Array,
  count: number,
  inner: number,
): void {
  const outer = inner === 0 || count === 0 ? 0 : src.length / (count * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    for (let r = 0; r < count; r++) {
      const from = (o * count + r) * inner;
      if (op === 'max') {
        for (let k = 0; k < inner; k++)
          acc[base + k] = Math.max(acc[base + k] as number, src[from + k] as number);
      } else if (op === 'min') {
        for (let k = 0; k < inner; k++)
          acc[base + k] = Math.min(acc[base + k] as number, src[from + k] as number);
      } else if (inner === 1) {
        // A trailing reduction: one running sum per output.
        let sum = acc[base] as number;
        for (let k = from, end = from + count; k < end; k++) sum += src[k] as number;
        acc[base] = sum;
        break;
      } else {
        for (let k = 0; k < inner; k++) acc[base + k] = (acc[base + k] as number) + (src[from + k] as number);
      }
    }
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
