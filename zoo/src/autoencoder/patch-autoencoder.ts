import { InvalidArgumentError, ShapeMismatchError } from '@noiserefine/core';
import { CHANNELS, readPatch, writePatch } from './patch-grid';

/** The shapes an autoencoder works on. */
export interface PatchAutoencoderGeometry {
  /** Image side in pixels. */
  imageSize: number;
  /** Side of the square RGB patch one latent position encodes (the VAE's downsampling factor). */
  patchSize: number;
  latentChannels: number;
  /**
   * diffusers' scaling_factor: latents are multiplied by it before diffusion and divided by
   * it before decoding. The encoder is scaled so that `scalingFactor · latent` has unit
   * variance in every channel: 0.18215 for SD 1/2- and SiT-like families, 0.13025 for SDXL-like.
   */
  scalingFactor: number;
}

export interface PatchAutoencoderWeights {
  /** Mean patch [patchDim]. */
  mean: Float32Array;
  /** [patchDim, latentChannels]: raw latent = (patch − mean) · encoderWeight. */
  encoderWeight: Float32Array;
  /** [latentChannels, patchDim]: patch = latent · decoderWeight + mean. */
  decoderWeight: Float32Array;
}

/**
 * A linear autoencoder on non-overlapping RGB patches: a [3, S, S] image becomes a
 * [C, S/p, S/p] latent. It stands in for a VAE in the tiny zoo: smooth, deterministic,
 * and exported with the I/O names of real VAE exports (see onnx-export.ts). Fitted by
 * PCA in fit.ts.
 */
export class PatchAutoencoder {
  readonly latentSize: number;
  readonly patchDim: number;

  constructor(
    readonly geometry: PatchAutoencoderGeometry,
    readonly weights: PatchAutoencoderWeights,
  ) {
    const { imageSize, patchSize, latentChannels, scalingFactor } = geometry;
    if (!Number.isInteger(imageSize / patchSize) || !Number.isInteger(latentChannels) || latentChannels < 1) {
      throw new InvalidArgumentError(
        `patch autoencoder: expected an image size divisible by the patch size and ≥ 1 latent channel, got size ${imageSize}, patch ${patchSize}, ${latentChannels} channels`,
      );
    }
    if (!(scalingFactor > 0)) {
      throw new InvalidArgumentError(`patch autoencoder scaling factor: expected > 0, got ${scalingFactor}`);
    }
    this.latentSize = imageSize / patchSize;
    this.patchDim = patchSize * patchSize * CHANNELS;
    const check = (what: string, got: number, want: number) => {
      if (got !== want) {
        throw new InvalidArgumentError(`patch autoencoder ${what}: expected ${want} values, got ${got}`);
      }
    };
    check('mean', weights.mean.length, this.patchDim);
    check('encoder weight', weights.encoderWeight.length, this.patchDim * latentChannels);
    check('decoder weight', weights.decoderWeight.length, this.patchDim * latentChannels);
  }

  /** Images [N, 3, S, S] → raw latents [N, C, S/p, S/p] (before the scaling factor). */
  encode(images: Float32Array): Float32Array {
    const k = this.geometry.latentChannels;
    const n = this.#count(images, CHANNELS * this.geometry.imageSize ** 2, 'images');
    const positions = this.latentSize ** 2;
    const { mean, encoderWeight } = this.weights;
    const out = new Float32Array(n * k * positions);
    const patch = new Float64Array(this.patchDim);
    for (let b = 0; b < n; b++) {
      for (let pos = 0; pos < positions; pos++) {
        readPatch(images, b, pos, this.geometry, patch);
        for (let c = 0; c < k; c++) {
          let z = 0;
          for (let d = 0; d < this.patchDim; d++) {
            z += ((patch[d] as number) - (mean[d] as number)) * (encoderWeight[d * k + c] as number);
          }
          out[(b * k + c) * positions + pos] = z;
        }
      }
    }
    return out;
  }

  /** Raw latents [N, C, S/p, S/p] → images [N, 3, S, S]. */
  decode(latents: Float32Array): Float32Array {
    const k = this.geometry.latentChannels;
    const positions = this.latentSize ** 2;
    const n = this.#count(latents, k * positions, 'latents');
    const { mean, decoderWeight } = this.weights;
    const out = new Float32Array(n * CHANNELS * this.geometry.imageSize ** 2);
    const patch = new Float64Array(this.patchDim);
    for (let b = 0; b < n; b++) {
      for (let pos = 0; pos < positions; pos++) {
        for (let d = 0; d < this.patchDim; d++) {
          let x = mean[d] as number;
          for (let c = 0; c < k; c++) {
            x +=
              (latents[(b * k + c) * positions + pos] as number) *
              (decoderWeight[c * this.patchDim + d] as number);
          }
          patch[d] = x;
        }
        writePatch(out, b, pos, this.geometry, patch);
      }
    }
    return out;
  }

  /** The same autoencoder for another family's scaling factor: raw latents rescale, scaled ones do not change. */
  withScalingFactor(scalingFactor: number): PatchAutoencoder {
    const r = this.geometry.scalingFactor / scalingFactor;
    return new PatchAutoencoder(
      { ...this.geometry, scalingFactor },
      {
        mean: this.weights.mean,
        encoderWeight: this.weights.encoderWeight.map((w) => w * r),
        decoderWeight: this.weights.decoderWeight.map((w) => w / r),
      },
    );
  }

  #count(data: Float32Array, per: number, what: 'images' | 'latents'): number {
    if (data.length === 0 || data.length % per !== 0) {
      const { imageSize: s, latentChannels: k } = this.geometry;
      const h = this.latentSize;
      const expected = what === 'images' ? `[N, 3, ${s}, ${s}]` : `[N, ${k}, ${h}, ${h}]`;
      throw new ShapeMismatchError(`patch autoencoder ${what} (flat length)`, expected, [data.length]);
    }
    return data.length / per;
  }
}
