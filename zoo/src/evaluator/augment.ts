import { InvalidArgumentError } from '@noiserefine/core';
import type { PatchAutoencoder } from '../autoencoder/patch-autoencoder';
import type { SampleRandom } from '../sample-random';

/**
 * Image degradations on one [3, S, S] image in [−1, 1]. The evaluator trains on them so
 * that what a small generator gets wrong (noise, blur, colour drift, a few pixels of
 * offset, the autoencoder's blocky decoding) moves its features less than what it gets
 * wrong about the shape; the sanity checks use the same functions at fixed strengths.
 * Each returns a new array and leaves its input alone.
 */

const CHANNELS = 3;

function side(image: Float32Array): number {
  const s = Math.sqrt(image.length / CHANNELS);
  if (!Number.isInteger(s)) {
    throw new InvalidArgumentError(`image: expected 3·S·S values, got ${image.length}`);
  }
  return s;
}

const clampUnit = (v: number) => Math.max(-1, Math.min(1, v));

/** Moves the content by (dx, dy) pixels, repeating the edge pixels into the uncovered border. */
export function shiftImage(image: Float32Array, dx: number, dy: number): Float32Array {
  const s = side(image);
  const out = new Float32Array(image.length);
  const clampIndex = (i: number) => (i < 0 ? 0 : i >= s ? s - 1 : i);
  for (let c = 0; c < CHANNELS; c++) {
    for (let y = 0; y < s; y++) {
      const sy = clampIndex(y - dy);
      for (let x = 0; x < s; x++) {
        out[(c * s + y) * s + x] = image[(c * s + sy) * s + clampIndex(x - dx)] as number;
      }
    }
  }
  return out;
}

/** Adds N(0, std²) noise to every value, drawn from `random`, and clamps to [−1, 1]. */
export function addGaussianNoise(image: Float32Array, std: number, random: SampleRandom): Float32Array {
  return image.map((v) => clampUnit(v + std * random.normal()));
}

/** A separable Gaussian blur (kernel radius ⌈2σ⌉, edges repeated); σ = 0 leaves the image as it is. */
export function gaussianBlur(image: Float32Array, sigma: number): Float32Array {
  if (!(sigma >= 0)) throw new InvalidArgumentError(`blur sigma: expected ≥ 0, got ${sigma}`);
  if (sigma === 0) return image.slice();
  const s = side(image);
  const radius = Math.max(1, Math.ceil(2 * sigma));
  const weights = Array.from({ length: 2 * radius + 1 }, (_, i) =>
    Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)),
  );
  const total = weights.reduce((a, b) => a + b, 0);
  const kernel = weights.map((w) => w / total);
  const clampIndex = (i: number) => (i < 0 ? 0 : i >= s ? s - 1 : i);
  const pass = (source: Float32Array, horizontal: boolean) => {
    const out = new Float32Array(source.length);
    for (let c = 0; c < CHANNELS; c++) {
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          let acc = 0;
          for (let k = -radius; k <= radius; k++) {
            const sx = horizontal ? clampIndex(x + k) : x;
            const sy = horizontal ? y : clampIndex(y + k);
            acc += (kernel[k + radius] as number) * (source[(c * s + sy) * s + sx] as number);
          }
          out[(c * s + y) * s + x] = acc;
        }
      }
    }
    return out;
  };
  return pass(pass(image, true), false);
}

export interface ColourJitter {
  /** Added to every value (the [−1, 1] scale). */
  brightness: number;
  /** Scales each channel's deviation from the image's mean. */
  contrast: number;
  /** Scales each pixel's deviation from its grey (channel mean); hue is kept. */
  saturation: number;
}

/** Brightness, contrast and saturation changes that keep the hue (red stays red). */
export function jitterColour(image: Float32Array, jitter: ColourJitter): Float32Array {
  const s = side(image);
  const plane = s * s;
  let mean = 0;
  for (const v of image) mean += v;
  mean /= image.length;
  const out = new Float32Array(image.length);
  for (let p = 0; p < plane; p++) {
    const grey = ((image[p] as number) + (image[plane + p] as number) + (image[2 * plane + p] as number)) / 3;
    for (let c = 0; c < CHANNELS; c++) {
      const v = image[c * plane + p] as number;
      const saturated = grey + jitter.saturation * (v - grey);
      const contrasted = mean + jitter.contrast * (saturated - mean);
      out[c * plane + p] = clampUnit(contrasted + jitter.brightness);
    }
  }
  return out;
}

/** Rounds to the 256 levels an 8-bit RGB image holds, as a decoded sample does. */
export function quantize8Bit(image: Float32Array): Float32Array {
  return image.map((v) => (Math.round(((clampUnit(v) + 1) / 2) * 255) / 255) * 2 - 1);
}

/**
 * The autoencoder's reconstruction, optionally with N(0, latentNoise²) added to the
 * scaled latent (unit variance per channel) before decoding: the blocky, colour-smeared
 * look of a generator's slightly wrong latents.
 */
export function reconstructImage(
  autoencoder: PatchAutoencoder,
  image: Float32Array,
  latentNoise = 0,
  random?: SampleRandom,
): Float32Array {
  const latent = autoencoder.encode(image);
  if (latentNoise > 0) {
    if (!random)
      throw new InvalidArgumentError('reconstruction with latent noise: expected a random stream, got none');
    const rawStd = latentNoise / autoencoder.geometry.scalingFactor;
    for (let i = 0; i < latent.length; i++) latent[i] = (latent[i] as number) + rawStd * random.normal();
  }
  return autoencoder.decode(latent).map(clampUnit);
}

/** How often and how strongly each degradation is applied while training the evaluator. */
export interface AugmentationOptions {
  /** Probability of replacing the image by its autoencoder reconstruction. */
  reconstruction: number;
  /** Latent noise std of a reconstruction is drawn in [0, this]. */
  maxLatentNoise: number;
  shift: number;
  maxShift: number;
  colourJitter: number;
  maxBrightness: number;
  /** Contrast and saturation factors are drawn in [1 − this, 1 + this]. */
  maxContrastChange: number;
  maxSaturationChange: number;
  blur: number;
  /** Blur sigma is drawn in [0.3, this] (pixels). */
  maxBlurSigma: number;
  noise: number;
  maxNoiseStd: number;
}

export const DEFAULT_AUGMENTATION: Readonly<AugmentationOptions> = {
  reconstruction: 0.4,
  maxLatentNoise: 0.5,
  shift: 0.5,
  maxShift: 2,
  colourJitter: 0.5,
  maxBrightness: 0.15,
  maxContrastChange: 0.25,
  maxSaturationChange: 0.3,
  blur: 0.3,
  maxBlurSigma: 1,
  noise: 0.4,
  maxNoiseStd: 0.2,
};

/**
 * One random augmentation of `image`, every choice drawn from `random` (so a stream
 * seeded per sample makes training reproducible). The order follows a generator's
 * pipeline: decoding artefacts, then geometry, colour, blur, pixel noise, and the
 * 8-bit rounding every decoded sample goes through.
 */
export function augmentImage(
  image: Float32Array,
  random: SampleRandom,
  autoencoder: PatchAutoencoder | undefined,
  options: Readonly<AugmentationOptions> = DEFAULT_AUGMENTATION,
): Float32Array {
  let x = image;
  if (autoencoder && random.uniform() < options.reconstruction) {
    x = reconstructImage(autoencoder, x, random.uniform() * options.maxLatentNoise, random);
  }
  if (random.uniform() < options.shift) {
    const span = 2 * options.maxShift + 1;
    x = shiftImage(x, random.int(span) - options.maxShift, random.int(span) - options.maxShift);
  }
  if (random.uniform() < options.colourJitter) {
    x = jitterColour(x, {
      brightness: random.range(-options.maxBrightness, options.maxBrightness),
      contrast: 1 + random.range(-options.maxContrastChange, options.maxContrastChange),
      saturation: 1 + random.range(-options.maxSaturationChange, options.maxSaturationChange),
    });
  }
  if (random.uniform() < options.blur)
    x = gaussianBlur(x, random.range(Math.min(0.3, options.maxBlurSigma), options.maxBlurSigma));
  if (random.uniform() < options.noise)
    x = addGaussianNoise(x, random.uniform() * options.maxNoiseStd, random);
  return quantize8Bit(x);
}
