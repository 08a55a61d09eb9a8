import { Generator } from '../random/generator';
import { type Tensor, add, disposeAll, linearCombination, mul } from '../tensor/index';

const F = Math.fround;

/**
 * Where a stochastic step draws its noise when the caller passes no generator:
 * one stream per scheduler, seeded 0 (the analogue of torch's global generator).
 */
export class DefaultNoiseStream {
  #generator: Generator | undefined;

  pick(generator: Generator | undefined): Generator {
    if (generator) return generator;
    this.#generator ??= new Generator(0);
    return this.#generator;
  }
}

/** Standard normal noise shaped like `like`, on its backend: torch.randn(like.shape, generator). */
export const noiseLike = (like: Tensor, generator: Generator): Tensor =>
  generator.randn(like.shape, like.backend);

/** x + scale·noise, disposing x and noise; `scale` may be per element. */
export function addScaledNoise(x: Tensor, scale: number | Tensor, noise: Tensor): Tensor {
  let out: Tensor;
  if (typeof scale === 'number') {
    out = linearCombination([
      [1, x],
      [scale, noise],
    ]);
  } else {
    const scaled = mul(scale, noise);
    out = add(x, scaled);
    scaled.dispose();
  }
  disposeAll(x, noise);
  return out;
}

/** The forward process at alphas_cumprod = a: √a·x0 + √(1−a)·noise (scalars in float32 as torch has them). */
export function addNoiseAtAlpha(originalSamples: Tensor, noise: Tensor, alphaCumprod: number): Tensor {
  return linearCombination([
    [F(Math.sqrt(alphaCumprod)), originalSamples],
    [F(Math.sqrt(F(1 - alphaCumprod))), noise],
  ]);
}
