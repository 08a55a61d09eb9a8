import { type Generator, InvalidArgumentError } from '@noiserefine/core';

/**
 * How a parameter is filled when no trained value is supplied for it. The random
 * schemes draw from the builder's seeded stream in creation order, so the same
 * code and seed give the same weights.
 */
export type ParameterInit =
  | 'zeros'
  | 'ones'
  | { uniform: number } // U(-bound, bound)
  | { normal: number } // N(0, std²)
  | Float32Array; // explicit values

export function initialValues(init: ParameterInit, size: number, generator: Generator): Float32Array {
  if (init instanceof Float32Array) {
    if (init.length !== size) {
      throw new InvalidArgumentError(
        `explicit parameter values: expected ${size} values, got ${init.length}`,
      );
    }
    return init.slice();
  }
  if (init === 'zeros') return new Float32Array(size);
  if (init === 'ones') return new Float32Array(size).fill(1);
  if ('uniform' in init) {
    const u = generator.randValues(size);
    return u.map((x) => (2 * x - 1) * init.uniform);
  }
  const n = generator.randnValues(size);
  return n.map((x) => x * init.normal);
}

/** torch.nn.Linear's default: weight and bias ~ U(-1/√fanIn, 1/√fanIn). */
export function torchLinearInit(fanIn: number): ParameterInit {
  return { uniform: 1 / Math.sqrt(fanIn) };
}

/** Xavier/Glorot uniform, as DiT initialises its linear layers. */
export function xavierUniformInit(fanIn: number, fanOut: number): ParameterInit {
  return { uniform: Math.sqrt(6 / (fanIn + fanOut)) };
}
