import { InvalidArgumentError } from '../errors';

/**
 * alphas_cumprod at an integer train timestep; a negative timestep (the step past
 * the end of the schedule) reads `beforeStart` (1 or alphas_cumprod[0] in diffusers).
 */
export function alphaCumprodAt(alphasCumprod: Float32Array, timestep: number, beforeStart: number): number {
  if (timestep < 0) return beforeStart;
  const a = alphasCumprod[timestep];
  if (a === undefined || !Number.isInteger(timestep)) {
    throw new InvalidArgumentError(
      `timestep must be an integer in [0, ${alphasCumprod.length - 1}], got ${timestep}`,
    );
  }
  return a;
}
