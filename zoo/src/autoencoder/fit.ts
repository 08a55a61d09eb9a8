import { InvalidArgumentError, ShapeMismatchError } from '@noiserefine/core';
// ml-matrix: a maintained, dependency-free JS linear-algebra library. Its symmetric
// eigendecomposition (Householder tridiagonalisation + QL) is exact to double precision
// on the small patch covariance we decompose (12×12 for 2×2 RGB patches), where a
// hand-written solver would be one more numerical routine to test.
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { PatchAutoencoder, type PatchAutoencoderGeometry } from './patch-autoencoder';
import { CHANNELS, readPatch } from './patch-grid';

/**
 * Fits the autoencoder by PCA of every patch of `images` [N, 3, S, S]: the top
 * `latentChannels` eigenvectors of the patch covariance, each channel whitened and then
 * divided by the scaling factor, so `scalingFactor · latent` has unit variance per channel.
 */
export function fitPatchAutoencoder(
  images: Float32Array,
  geometry: PatchAutoencoderGeometry,
): PatchAutoencoder {
  const { imageSize, patchSize, latentChannels: k, scalingFactor } = geometry;
  const dim = patchSize * patchSize * CHANNELS;
  if (!Number.isInteger(k) || k < 1 || k > dim) {
    throw new InvalidArgumentError(`latent channels: expected 1 to ${dim} (the patch size), got ${k}`);
  }
  const n = images.length / (CHANNELS * imageSize * imageSize);
  if (!Number.isInteger(n) || n < 1) {
    throw new ShapeMismatchError(
      'patch autoencoder fit images (flat length)',
      `[N, 3, ${imageSize}, ${imageSize}]`,
      [images.length],
    );
  }
  const positions = (imageSize / patchSize) ** 2;
  const sum = new Float64Array(dim);
  const outer = new Float64Array(dim * dim);
  const patch = new Float64Array(dim);
  for (let b = 0; b < n; b++) {
    for (let pos = 0; pos < positions; pos++) {
      readPatch(images, b, pos, geometry, patch);
      for (let i = 0; i < dim; i++) {
        const pi = patch[i] as number;
        sum[i] = (sum[i] as number) + pi;
        for (let j = i; j < dim; j++)
          outer[i * dim + j] = (outer[i * dim + j] as number) + pi * (patch[j] as number);
      }
    }
  }
  const count = n * positions;
  const mean = Float64Array.from(sum, (s) => s / count);
  const covariance = Matrix.zeros(dim, dim);
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const c = (outer[i * dim + j] as number) / count - (mean[i] as number) * (mean[j] as number);
      covariance.set(i, j, c);
      covariance.set(j, i, c);
    }
  }
  const evd = new EigenvalueDecomposition(covariance, { assumeSymmetric: true });
  const order = evd.realEigenvalues
    .map((value, index) => ({ value, index }))
    .sort((a, b) => b.value - a.value)
    .slice(0, k);
  const encoderWeight = new Float32Array(dim * k);
  const decoderWeight = new Float32Array(k * dim);
  order.forEach(({ value, index }, c) => {
    const std = Math.sqrt(Math.max(value, 1e-12));
    const column = evd.eigenvectorMatrix.getColumn(index);
    // Eigenvectors have no sign of their own: make the largest component positive so a refit
    // writes the same files.
    const largest = column.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
    const sign = largest < 0 ? -1 : 1;
    for (let d = 0; d < dim; d++) {
      const v = sign * (column[d] as number);
      encoderWeight[d * k + c] = v / (std * scalingFactor);
      decoderWeight[c * dim + d] = v * std * scalingFactor;
    }
  });
  return new PatchAutoencoder(geometry, { mean: Float32Array.from(mean), encoderWeight, decoderWeight });
}

export interface ReconstructionError {
  /** Mean squared error per pixel value, on the [-1, 1] scale. */
  mse: number;
  /** PSNR in dB for the [-1, 1] range (peak-to-peak 2). */
  psnr: number;
  maxAbs: number;
}

export function reconstructionError(ae: PatchAutoencoder, images: Float32Array): ReconstructionError {
  const recon = ae.decode(ae.encode(images));
  let se = 0;
  let maxAbs = 0;
  for (let i = 0; i < images.length; i++) {
    const d = (recon[i] as number) - (images[i] as number);
    se += d * d;
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  const mse = se / images.length;
  return { mse, psnr: 10 * Math.log10(4 / mse), maxAbs };
}

/** Per-channel standard deviation of `scalingFactor · latent` (≈ 1 on data like the fit's). */
export function scaledLatentStd(ae: PatchAutoencoder, images: Float32Array): number[] {
  const z = ae.encode(images);
  const k = ae.geometry.latentChannels;
  const positions = ae.latentSize ** 2;
  const n = z.length / (k * positions);
  return Array.from({ length: k }, (_, c) => {
    let s = 0;
    let s2 = 0;
    for (let b = 0; b < n; b++) {
      for (let p = 0; p < positions; p++) {
        const v = (z[(b * k + c) * positions + p] as number) * ae.geometry.scalingFactor;
        s += v;
        s2 += v * v;
      }
    }
    const m = s / (n * positions);
    return Math.sqrt(s2 / (n * positions) - m * m);
  });
}
