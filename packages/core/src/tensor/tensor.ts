/**
 * The abstract tensor API. All diffusion math in core (schedulers, guidance,
 * losses) is written against these two interfaces; backends implement them.
 *
 * Tensors are opaque handles: a GPU backend keeps its data on the device and
 * only `data()` reads it back, so a denoising loop never forces a copy per step.
 * Tensors are float32 in the math layer; model runners convert at their edges.
 */

export type Shape = readonly number[];

/** Version of the TensorBackend contract. Adapters declare the version they implement. */
export const BACKEND_API_VERSION = 1 as const;

export interface Tensor {
  readonly shape: Shape;
  /** Number of elements. */
  readonly size: number;
  readonly dtype: 'float32';
  readonly backend: TensorBackend;
  readonly isDisposed: boolean;
  /** Reads the values back as a fresh Float32Array (row-major). */
  data(): Promise<Float32Array>;
  /** Frees backend memory. Using the tensor afterwards throws DisposedTensorError. */
  dispose(): void;
}

export type UnaryOp =
  | 'neg'
  | 'abs'
  | 'sqrt'
  | 'exp'
  | 'log'
  | 'square'
  | 'sign'
  | 'sin'
  | 'cos'
  | 'tanh'
  | 'sigmoid';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'pow';
export type ReduceOp = 'sum' | 'mean' | 'max' | 'min';

/** One term c·x of a linear combination. */
export type LinearTerm = readonly [coefficient: number, tensor: Tensor];

export interface BackendCapabilities {
  /** Whether the backend can differentiate (stopGradient is then meaningful). */
  readonly gradients: boolean;
  /** Where tensor data lives; 'cpu' means reads are cheap. */
  readonly location: 'cpu' | 'wasm' | 'gpu';
}

/**
 * What a backend implements. Binary ops broadcast numpy-style; a number operand
 * is a scalar. Every op returns a new tensor and leaves its inputs alone.
 */
export interface TensorBackend {
  readonly name: string;
  readonly apiVersion: typeof BACKEND_API_VERSION;
  readonly capabilities: BackendCapabilities;

  fromData(data: Float32Array, shape: Shape): Tensor;
  read(x: Tensor): Promise<Float32Array>;
  /** Synchronous read for backends whose data lives on the CPU; absent elsewhere. */
  readSync?(x: Tensor): Float32Array;

  fill(shape: Shape, value: number): Tensor;
  unary(op: UnaryOp, x: Tensor): Tensor;
  binary(op: BinaryOp, a: Tensor, b: Tensor | number): Tensor;
  /** Σ cᵢ·xᵢ (+ bias), all xᵢ of the same shape: one fused pass, the workhorse of every sampler. */
  linearCombination(terms: readonly LinearTerm[], bias?: number): Tensor;
  clip(x: Tensor, min: number, max: number): Tensor;
  /** Reduces over `axes` (all axes when omitted). */
  reduce(op: ReduceOp, x: Tensor, axes?: readonly number[], keepDims?: boolean): Tensor;
  reshape(x: Tensor, shape: Shape): Tensor;
  transpose(x: Tensor, perm: readonly number[]): Tensor;
  slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor;
  concat(xs: readonly Tensor[], axis: number): Tensor;
  /** Identity in value; blocks gradients on training backends. */
  stopGradient(x: Tensor): Tensor;
  clone(x: Tensor): Tensor;
}
