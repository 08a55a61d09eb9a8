import { describe, expect, it } from 'vitest';
import { generateDataset } from '../dataset';
import { fitPatchAutoencoder, reconstructionError, scaledLatentStd } from './fit';

const geometry = { imageSize: 16, patchSize: 2, latentChannels: 4, scalingFactor: 0.18215 };
const train = generateDataset({ seed: 0, count: 400 });
const heldOut = generateDataset({ seed: 0, count: 200, start: 400 });
const ae = fitPatchAutoencoder(train.images, geometry);

describe('fitPatchAutoencoder', () => {
  it('reconstructs held-out images within the error bound of a 4-of-12 PCA', () => {
    const error = reconstructionError(ae, heldOut.images);
    // Measured 0.0079 (27.0 dB) with the build script's 4,000 fit images.
    expect(error.mse).toBeLessThan(0.012);
    expect(error.psnr).toBeGreaterThan(25);
  });

  it('gives latents of unit variance per channel after the scaling factor', () => {
    const latents = ae.encode(heldOut.images);
    expect(latents.length).toBe(200 * 4 * 8 * 8);
    for (const std of scaledLatentStd(ae, heldOut.images)) expect(Math.abs(std - 1)).toBeLessThan(0.1);
    let rawSquares = 0;
    for (const z of latents) rawSquares += z * z;
    expect(Math.sqrt(rawSquares / latents.length)).toBeCloseTo(1 / 0.18215, 0);
  });

  it('decoding is a projection: re-encoding a decoded latent gives it back', () => {
    const z = ae.encode(heldOut.images.subarray(0, 5 * 768));
    const again = ae.encode(ae.decode(z));
    let worst = 0;
    for (let i = 0; i < z.length; i++) worst = Math.max(worst, Math.abs(again[i]! - z[i]!));
    expect(worst).toBeLessThan(1e-4);
  });

  it('a refit on the same images writes the same weights (eigenvector signs fixed)', () => {
    const again = fitPatchAutoencoder(train.images, geometry);
    expect(again.weights.encoderWeight).toEqual(ae.weights.encoderWeight);
  });

  it('another scaling factor rescales raw latents and leaves decoded images unchanged', () => {
    const sdxl = ae.withScalingFactor(0.13025);
    const images = heldOut.images.subarray(0, 4 * 768);
    const a = ae.encode(images);
    const b = sdxl.encode(images);
    for (let i = 0; i < a.length; i += 37) expect(b[i]! * 0.13025).toBeCloseTo(a[i]! * 0.18215, 4);
    const da = ae.decode(a);
    const db = sdxl.decode(b);
    for (let i = 0; i < da.length; i += 37) expect(db[i]).toBeCloseTo(da[i]!, 4);
  });

  it('rejects more latent channels than a patch has values, and misshapen images', () => {
    expect(() => fitPatchAutoencoder(train.images, { ...geometry, latentChannels: 13 })).toThrow(/1 to 12/);
    expect(() => fitPatchAutoencoder(new Float32Array(100), geometry)).toThrow(/\[N, 3, 16, 16\]/);
    expect(() => ae.decode(new Float32Array(7))).toThrow(/\[N, 4, 8, 8\]/);
  });
});
