/** Seeded op inputs and the comparison of an op against the reference backend. */
import { Generator } from '../random/generator';
import { disposeAll } from '../tensor/ops';
import { sizeOf } from '../tensor/shape';
import type { Shape, Tensor, TensorBackend } from '../tensor/tensor';
import type { SuiteContext } from './cases';
import { EXACT, expectClose, expectShape } from './compare';
import type { Tolerance } from './fixtures';

export interface Input {
  readonly data: Float32Array;
  readonly shape: Shape;
}

export type Op = (backend: TensorBackend, xs: Tensor[]) => Tensor;

/** Seeded N(0, scale²) values (+ offset). */
export function normal(seed: number, shape: Shape, scale = 1, offset = 0): Input {
  const data = new Generator(seed).randnValues(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) * scale + offset;
  return { data, shape };
}

/** |x| + floor: inputs for sqrt, log and pow bases. */
export function positive(seed: number, shape: Shape, floor = 0.05): Input {
  const { data } = normal(seed, shape, 2);
  for (let i = 0; i < data.length; i++) data[i] = Math.abs(data[i] as number) + floor;
  return { data, shape };
}

/** Values at least 0.5 away from zero: divisors. */
export function awayFromZero(seed: number, shape: Shape): Input {
  const { data } = normal(seed, shape);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    data[i] = v < 0 ? v - 0.5 : v + 0.5;
  }
  return { data, shape };
}

/** Every fifth value exactly 0 (sign, abs, sqrt at 0). */
export function withZeros(seed: number, shape: Shape, scale = 1): Input {
  const { data } = normal(seed, shape, scale);
  for (let i = 0; i < data.length; i += 5) data[i] = 0;
  return { data, shape };
}

/**
 * Runs `op` on the reference backend and on the backend under test with the same inputs and
 * compares shapes and values. Every tensor made here is disposed.
 */
export async function checkAgainstReference(
  ctx: SuiteContext,
  what: string,
  inputs: readonly Input[],
  op: Op,
  tolerance: Tolerance = ctx.opsTolerance,
): Promise<void> {
  const refInputs = inputs.map((x) => ctx.reference.fromData(x.data, x.shape));
  const testInputs = inputs.map((x) => ctx.tensors.fromData(x.data, x.shape));
  const expected = op(ctx.reference, refInputs);
  let actual: Tensor | undefined;
  try {
    actual = op(ctx.tensors, testInputs);
    expectShape(actual.shape, expected.shape, what);
    expectClose(await ctx.tensors.read(actual), await ctx.reference.read(expected), tolerance, what);
  } finally {
    disposeAll(...refInputs, ...testInputs, expected, actual);
  }
}

export async function expectValues(
  tensors: TensorBackend,
  x: Tensor,
  expected: Input,
  what: string,
): Promise<void> {
  expectShape(x.shape, expected.shape, what);
  expectClose(await tensors.read(x), expected.data, EXACT, what);
}
