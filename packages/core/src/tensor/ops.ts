/**
 * The functional tensor API used by all of core's math. Each function
 * dispatches to the backend that owns its tensor arguments.
 */
import { BackendMismatchError, DisposedTensorError, NonFiniteError } from '../errors';
import { referenceBackend } from './reference-backend';
import type { LinearTerm, ReduceOp, Shape, Tensor, TensorBackend } from './tensor';

function backendOf(...xs: (Tensor | number)[]): TensorBackend {
  let backend: TensorBackend | undefined;
  for (const x of xs) {
    if (typeof x === 'number') continue;
    if (x.isDisposed) throw new DisposedTensorError(x.shape, x.backend.name);
    if (!backend) backend = x.backend;
    else if (x.backend !== backend) throw new BackendMismatchError(backend.name, x.backend.name);
  }
  return backend ?? referenceBackend;
}

/** Creates a tensor from a Float32Array (copied) on the given backend (default: reference). */
export function tensor(
  data: Float32Array | readonly number[],
  shape: Shape,
  backend: TensorBackend = referenceBackend,
): Tensor {
  return backend.fromData(data instanceof Float32Array ? data : Float32Array.from(data), shape);
}

export function zeros(shape: Shape, backend: TensorBackend = referenceBackend): Tensor {
  return backend.fill(shape, 0);
}

export function full(shape: Shape, value: number, backend: TensorBackend = referenceBackend): Tensor {
  return backend.fill(shape, value);
}

export const add = (a: Tensor, b: Tensor | number): Tensor => backendOf(a, b).binary('add', a, b);
export const sub = (a: Tensor, b: Tensor | number): Tensor => backendOf(a, b).binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor | number): Tensor => backendOf(a, b).binary('mul', a, b);
export const div = (a: Tensor, b: Tensor | number): Tensor => backendOf(a, b).binary('div', a, b);
export const maximum = (a: Tensor, b: Tensor | number): Tensor => backendOf(a, b).binary('maximum', a, b);
export const minimum = (a: Tensor, b: Tensor | number): Tensor => backendOf(a, b).binary('minimum', a, b);
export const pow = (a: Tensor, b: Tensor | number): Tensor => backendOf(a, b).binary('pow', a, b);

export const neg = (x: Tensor): Tensor => backendOf(x).unary('neg', x);
export const abs = (x: Tensor): Tensor => backendOf(x).unary('abs', x);
export const sqrt = (x: Tensor): Tensor => backendOf(x).unary('sqrt', x);
export const exp = (x: Tensor): Tensor => backendOf(x).unary('exp', x);
export const log = (x: Tensor): Tensor => backendOf(x).unary('log', x);
export const square = (x: Tensor): Tensor => backendOf(x).unary('square', x);
export const sign = (x: Tensor): Tensor => backendOf(x).unary('sign', x);
export const sin = (x: Tensor): Tensor => backendOf(x).unary('sin', x);
export const cos = (x: Tensor): Tensor => backendOf(x).unary('cos', x);
export const tanh = (x: Tensor): Tensor => backendOf(x).unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => backendOf(x).unary('sigmoid', x);

/** c·x. */
export const scale = (x: Tensor, c: number): Tensor => backendOf(x).linearCombination([[c, x]]);

/** Σ cᵢ·xᵢ + bias in one pass. Terms with coefficient 0 are skipped. */
export function linearCombination(terms: readonly LinearTerm[], bias = 0): Tensor {
  const used = terms.filter(([c]) => c !== 0);
  const kept = used.length > 0 ? used : terms.slice(0, 1).map(([, t]) => [0, t] as const);
  return backendOf(...kept.map(([, t]) => t)).linearCombination(kept, bias);
}

export const clip = (x: Tensor, min: number, max: number): Tensor => backendOf(x).clip(x, min, max);

function reducer(op: ReduceOp) {
  return (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor =>
    backendOf(x).reduce(op, x, typeof axes === 'number' ? [axes] : axes, keepDims);
}
export const sum = reducer('sum');
export const mean = reducer('mean');
export const max = reducer('max');
export const min = reducer('min');

/** Variance over axes; `unbiased` divides by n − 1 like torch.std's default. */
export function variance(
  x: Tensor,
  axes?: number | readonly number[],
  keepDims = false,
  unbiased = false,
): Tensor {
  const m = mean(x, axes, true);
  const d = sub(x, m);
  const d2 = square(d);
  const s = sum(d2, axes, keepDims);
  const n = x.size / m.size;
  const out = scale(s, 1 / (unbiased ? n - 1 : n));
  disposeAll(m, d, d2, s);
  return out;
}

export function std(
  x: Tensor,
  axes?: number | readonly number[],
  keepDims = false,
  unbiased = false,
): Tensor {
  const v = variance(x, axes, keepDims, unbiased);
  const out = sqrt(v);
  v.dispose();
  return out;
}

export const reshape = (x: Tensor, shape: Shape): Tensor => backendOf(x).reshape(x, shape);
export const transpose = (x: Tensor, perm: readonly number[]): Tensor => backendOf(x).transpose(x, perm);
export const slice = (x: Tensor, begin: readonly number[], size: readonly number[]): Tensor =>
  backendOf(x).slice(x, begin, size);
export const concat = (xs: readonly Tensor[], axis = 0): Tensor => backendOf(...xs).concat(xs, axis);
export const stopGradient = (x: Tensor): Tensor => backendOf(x).stopGradient(x);
export const clone = (x: Tensor): Tensor => backendOf(x).clone(x);

/** Slices [start, end) along one axis. */
export function sliceAxis(x: Tensor, axis: number, start: number, end: number): Tensor {
  const begin = x.shape.map((_, i) => (i === axis ? start : 0));
  const size = x.shape.map((d, i) => (i === axis ? end - start : d));
  return slice(x, begin, size);
}

/** Splits along axis 0 into `parts` equal chunks (the [uncond, cond, …] batch of guidance). */
export function chunk(x: Tensor, parts: number, axis = 0): Tensor[] {
  const n = x.shape[axis] as number;
  const step = n / parts;
  return Array.from({ length: parts }, (_, i) => sliceAxis(x, axis, i * step, (i + 1) * step));
}

/** Moves a tensor to another backend (reads it back once). */
export async function toBackend(x: Tensor, backend: TensorBackend): Promise<Tensor> {
  if (x.backend === backend) return x;
  return backend.fromData(await x.data(), x.shape);
}

/** Throws NonFiniteError naming the first NaN or ±Infinity in `x`. */
export async function assertFinite(x: Tensor, what = 'tensor'): Promise<void> {
  const values = await x.data();
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw new NonFiniteError(what, i, v);
  }
}

export function disposeAll(...xs: (Tensor | undefined | null)[]): void {
  for (const x of xs) if (x && !x.isDisposed) x.dispose();
}
