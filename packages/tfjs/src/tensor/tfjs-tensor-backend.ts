import * as tf from '@tensorflow/tfjs-core';
import {
  BACKEND_API_VERSION,
  type BackendCapabilities,
  BackendMismatchError,
  type BinaryOp,
  DisposedTensorError,
  InvalidArgumentError,
  type LinearTerm,
  type ReduceOp,
  type Shape,
  ShapeMismatchError,
  type Tensor,
  type TensorBackend,
  type UnaryOp,
} from '@noiserefine/core';

/** A core Tensor over a tfjs tensor (or tf.Variable). Always float32. */
export class TfjsTensor implements Tensor {
  readonly dtype = 'float32' as const;

  constructor(
    readonly backend: TfjsTensorBackend,
    /** The wrapped tfjs tensor; use it for tfjs ops, gradients and optimizers. */
    readonly tensor: tf.Tensor,
  ) {}

  get shape(): Shape {
    return this.tensor.shape;
  }

  get size(): number {
    return this.tensor.size;
  }

  get isDisposed(): boolean {
    return this.tensor.isDisposed;
  }

  async data(): Promise<Float32Array> {
    if (this.isDisposed) throw new DisposedTensorError(this.shape, this.backend.name);
    // Copy: the cpu engine hands out its own storage.
    return Float32Array.from((await this.tensor.data()) as Float32Array);
  }

  dispose(): void {
    if (!this.tensor.isDisposed) this.tensor.dispose();
  }
}

export function isTfjsTensor(x: unknown): x is TfjsTensor {
  return x instanceof TfjsTensor;
}

const UNARY: Record<UnaryOp, (x: tf.Tensor) => tf.Tensor> = {
  neg: (x) => tf.neg(x),
  abs: (x) => tf.abs(x),
  sqrt: (x) => tf.sqrt(x),
  exp: (x) => tf.exp(x),
  log: (x) => tf.log(x),
  square: (x) => tf.square(x),
  sign: (x) => tf.sign(x),
  sin: (x) => tf.sin(x),
  cos: (x) => tf.cos(x),
  tanh: (x) => tf.tanh(x),
  sigmoid: (x) => tf.sigmoid(x),
};

const BINARY: Record<BinaryOp, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  div: (a, b) => tf.div(a, b),
  maximum: (a, b) => tf.maximum(a, b),
  minimum: (a, b) => tf.minimum(a, b),
  pow: (a, b) => tf.pow(a, b),
};

const REDUCE: Record<ReduceOp, (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor> = {
  sum: (x, a, k) => tf.sum(x, a, k),
  mean: (x, a, k) => tf.mean(x, a, k),
  max: (x, a, k) => tf.max(x, a, k),
  min: (x, a, k) => tf.min(x, a, k),
};

/** Identity forward, zero gradient backward: tfjs has no stop_gradient op. */
const stopGradientOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
}));

function assertShape(shape: Shape): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new InvalidArgumentError(`shape must be non-negative integers, got [${shape.join(', ')}]`);
    }
  }
  return [...shape];
}

const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

function normalizeAxes(axes: readonly number[], rank: number): number[] {
  return axes.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (!Number.isInteger(n) || n < 0 || n >= rank) {
      throw new InvalidArgumentError(`axis ${a} is out of range for a tensor of rank ${rank}`);
    }
    return n;
  });
}

/**
 * core's TensorBackend on tfjs. Ops are recorded by tfjs, so a loss written with core's
 * functional API on these tensors can be differentiated with tf.grad / tf.variableGrads.
 */
export class TfjsTensorBackend implements TensorBackend {
  readonly name = 'tfjs';
  readonly apiVersion = BACKEND_API_VERSION;
  readonly capabilities: BackendCapabilities;
  /** Synchronous read; present unless tensors live on a GPU. */
  readonly readSync?: (x: Tensor) => Float32Array;

  constructor(location: BackendCapabilities['location']) {
    this.capabilities = { gradients: true, location };
    if (location !== 'gpu') {
      this.readSync = (x) => Float32Array.from(this.unwrap(x).dataSync() as Float32Array);
    }
  }

  /** The tfjs tensor behind a core Tensor of this backend. */
  unwrap(x: Tensor): tf.Tensor {
    if (!(x instanceof TfjsTensor)) throw new BackendMismatchError(this.name, x.backend.name);
    if (x.isDisposed) throw new DisposedTensorError(x.shape, this.name);
    return x.tensor;
  }

  /** Wraps a tfjs tensor (cast to float32) as a core Tensor; the wrapper owns it. */
  wrap(t: tf.Tensor): TfjsTensor {
    if (t.dtype === 'float32') return new TfjsTensor(this, t);
    const cast = tf.cast(t, 'float32');
    t.dispose();
    return new TfjsTensor(this, cast);
  }

  fromData(data: Float32Array, shape: Shape): Tensor {
    const dims = assertShape(shape);
    if (sizeOf(dims) !== data.length) {
      throw new ShapeMismatchError(`data of length ${data.length} does not fit shape`, [data.length], dims);
    }
    return this.wrap(tf.tensor(Float32Array.from(data), dims, 'float32'));
  }

  async read(x: Tensor): Promise<Float32Array> {
    return Float32Array.from((await this.unwrap(x).data()) as Float32Array);
  }

  fill(shape: Shape, value: number): Tensor {
    return this.wrap(tf.fill(assertShape(shape), value, 'float32'));
  }

  unary(op: UnaryOp, x: Tensor): Tensor {
    return this.wrap(UNARY[op](this.unwrap(x)));
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor | number): Tensor {
    const ta = this.unwrap(a);
    if (typeof b === 'number') {
      return this.wrap(tf.tidy(() => BINARY[op](ta, tf.scalar(b, 'float32'))));
    }
    const tb = this.unwrap(b);
    assertBroadcastable(ta.shape, tb.shape);
    return this.wrap(BINARY[op](ta, tb));
  }

  linearCombination(terms: readonly LinearTerm[], bias = 0): Tensor {
    const first = terms[0];
    if (!first) throw new InvalidArgumentError('linearCombination needs at least one term');
    const shape = first[1].shape;
    const tensors = terms.map(([, t]) => {
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new ShapeMismatchError(
          'linearCombination terms must share one shape',
          [...shape],
          [...t.shape],
        );
      }
      return this.unwrap(t);
    });
    return this.wrap(
      tf.tidy(() => {
        const scaled = terms.map(([c], i) => tf.mul(tensors[i] as tf.Tensor, c));
        const total = scaled.length === 1 ? (scaled[0] as tf.Tensor) : tf.addN(scaled);
        return bias === 0 ? total : tf.add(total, bias);
      }),
    );
  }

  clip(x: Tensor, min: number, max: number): Tensor {
    return this.wrap(tf.clipByValue(this.unwrap(x), min, max));
  }

  reduce(op: ReduceOp, x: Tensor, axes?: readonly number[], keepDims = false): Tensor {
    const t = this.unwrap(x);
    const list = axes === undefined ? t.shape.map((_, i) => i) : normalizeAxes(axes, t.rank);
    if (list.length === 0) return this.wrap(tf.clone(t));
    return this.wrap(REDUCE[op](t, list, keepDims));
  }

  reshape(x: Tensor, shape: Shape): Tensor {
    const dims = assertShape(shape);
    if (sizeOf(dims) !== x.size) {
      throw new ShapeMismatchError(`cannot reshape ${x.size} elements`, dims, [...x.shape]);
    }
    return this.wrap(tf.reshape(this.unwrap(x), dims));
  }

  transpose(x: Tensor, perm: readonly number[]): Tensor {
    const rank = x.shape.length;
    if (perm.length !== rank || new Set(perm).size !== rank || perm.some((p) => p < 0 || p >= rank)) {
      throw new InvalidArgumentError(
        `transpose: perm [${perm.join(', ')}] is not a permutation of ${rank} axes`,
      );
    }
    return this.wrap(tf.transpose(this.unwrap(x), [...perm]));
  }

  slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
    const rank = x.shape.length;
    if (begin.length !== rank || size.length !== rank) {
      throw new InvalidArgumentError(`slice: begin and size need ${rank} entries for a rank-${rank} tensor`);
    }
    size.forEach((s, i) => {
      const b = begin[i] as number;
      const extent = s < 0 ? (x.shape[i] as number) - b : s;
      if (b < 0 || b + extent > (x.shape[i] as number)) {
        throw new InvalidArgumentError(
          `slice: [${b}, ${b + extent}) is out of range for axis ${i} of size ${x.shape[i]}`,
        );
      }
    });
    return this.wrap(tf.slice(this.unwrap(x), [...begin], [...size]));
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
    return this.wrap(
      tf.concat(
        xs.map((t) => this.unwrap(t)),
        ax,
      ),
    );
  }

  stopGradient(x: Tensor): Tensor {
    return this.wrap(stopGradientOp(this.unwrap(x)));
  }

  clone(x: Tensor): Tensor {
    return this.wrap(tf.clone(this.unwrap(x)));
  }
}

function assertBroadcastable(a: readonly number[], b: readonly number[]): void {
  const rank = Math.max(a.length, b.length);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeMismatchError('operands are not broadcastable', [...a], [...b]);
    }
  }
}
