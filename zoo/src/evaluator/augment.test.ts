import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAutoencoder } from '../autoencoder/onnx-export';
import { generateSample } from '../dataset';
import { SampleRandom } from '../sample-random';
import {
  addGaussianNoise,
  augmentImage,
  DEFAULT_AUGMENTATION,
  gaussianBlur,
  jitterColour,
  quantize8Bit,
  reconstructImage,
  shiftImage,
} from './augment';

const autoencoder = await readAutoencoder(resolve(import.meta.dirname, '../../models/shared/patch-vae-sd21'));
const image = generateSample(0, 3).image;
const S = 16;
const at = (x: Float32Array, c: number, row: number, col: number) => x[(c * S + row) * S + col] as number;

/** A 4×4 image with a distinct value per pixel and channel. */
const ramp = Float32Array.from({ length: 48 }, (_, i) => i / 48);
const at4 = (x: Float32Array, c: number, row: number, col: number) => x[(c * 4 + row) * 4 + col] as number;

describe('shiftImage', () => {
  it('moves the content by (dx, dy) and repeats the edge into the uncovered border', () => {
    const shifted = shiftImage(ramp, 1, 2);
    expect(at4(shifted, 1, 3, 2)).toBe(at4(ramp, 1, 1, 1));
    expect(at4(shifted, 2, 2, 3)).toBe(at4(ramp, 2, 0, 2));
    // Rows 0–1 and column 0 are uncovered: they repeat row 0 / column 0 of the source.
    expect(at4(shifted, 0, 0, 0)).toBe(at4(ramp, 0, 0, 0));
    expect(at4(shifted, 0, 1, 3)).toBe(at4(ramp, 0, 0, 2));
    expect(Array.from(shiftImage(ramp, 0, 0))).toEqual(Array.from(ramp));
  });

  it('rejects arrays that are not 3·S·S values', () => {
    expect(() => shiftImage(new Float32Array(47), 1, 0)).toThrow(/expected 3·S·S values, got 47/);
  });
});

describe('gaussianBlur', () => {
  it('keeps a constant image constant and sigma 0 is the identity', () => {
    const flat = new Float32Array(3 * S * S).fill(0.3);
    for (const v of gaussianBlur(flat, 1.2)) expect(v).toBeCloseTo(0.3, 6);
    expect(Array.from(gaussianBlur(image, 0))).toEqual(Array.from(image));
  });

  it('spreads a single bright pixel symmetrically and keeps its mass away from the edges', () => {
    const dot = new Float32Array(3 * S * S);
    dot[(0 * S + 8) * S + 8] = 1;
    const blurred = gaussianBlur(dot, 1);
    expect(at(blurred, 0, 8, 8)).toBeLessThan(1);
    expect(at(blurred, 0, 8, 7)).toBeCloseTo(at(blurred, 0, 8, 9), 7);
    expect(at(blurred, 0, 7, 8)).toBeCloseTo(at(blurred, 0, 9, 8), 7);
    const mass = blurred.subarray(0, S * S).reduce((a, b) => a + b, 0);
    expect(mass).toBeCloseTo(1, 5);
    expect(blurred.subarray(S * S).every((v) => v === 0)).toBe(true);
  });
});

describe('jitterColour', () => {
  it('is the identity with neutral factors', () => {
    const same = jitterColour(image, { brightness: 0, contrast: 1, saturation: 1 });
    for (let i = 0; i < image.length; i++) expect(same[i]).toBeCloseTo(image[i] as number, 6);
  });

  it('saturation 0 makes every pixel grey; more saturation keeps the hue order of the channels', () => {
    const grey = jitterColour(ramp, { brightness: 0, contrast: 1, saturation: 0 });
    expect(at4(grey, 0, 1, 2)).toBeCloseTo(at4(grey, 2, 1, 2), 6);
    const vivid = jitterColour(ramp, { brightness: 0, contrast: 1, saturation: 1.5 });
    // In the ramp, channel 2 > channel 1 > channel 0 at every pixel.
    expect(at4(vivid, 2, 0, 0)).toBeGreaterThan(at4(vivid, 1, 0, 0));
    expect(at4(vivid, 1, 0, 0)).toBeGreaterThan(at4(vivid, 0, 0, 0));
  });

  it('clamps to [−1, 1]', () => {
    const bright = jitterColour(image, { brightness: 1.5, contrast: 2, saturation: 2 });
    expect(Math.max(...bright)).toBeLessThanOrEqual(1);
    expect(Math.min(...bright)).toBeGreaterThanOrEqual(-1);
  });
});

describe('noise, quantisation and reconstruction', () => {
  it('adds noise of the requested std, clamped', () => {
    const base = new Float32Array(30_000);
    const noisy = addGaussianNoise(base, 0.2, new SampleRandom(1, 2));
    const std = Math.sqrt(noisy.reduce((a, v) => a + v * v, 0) / noisy.length);
    expect(std).toBeCloseTo(0.2, 2);
  });

  it('rounds to the 256 levels of an 8-bit image', () => {
    const q = quantize8Bit(image);
    const levels = new Set(Array.from(q, (v) => Math.round(((v + 1) / 2) * 255 * 1000) / 1000));
    for (const level of levels) expect(Number.isInteger(level)).toBe(true);
    for (let i = 0; i < image.length; i++)
      expect(Math.abs((q[i] as number) - (image[i] as number))).toBeLessThanOrEqual(1 / 255 + 1e-6);
  });

  it('reconstructs through the autoencoder, and latent noise moves it further from the original', () => {
    const clean = reconstructImage(autoencoder, image);
    const expected = autoencoder.decode(autoencoder.encode(image));
    for (let i = 0; i < clean.length; i++)
      expect(clean[i]).toBeCloseTo(Math.max(-1, Math.min(1, expected[i] as number)), 6);
    const mse = (a: Float32Array) => a.reduce((s, v, i) => s + (v - (image[i] as number)) ** 2, 0) / a.length;
    const noisy = reconstructImage(autoencoder, image, 0.5, new SampleRandom(0, 0));
    expect(mse(noisy)).toBeGreaterThan(2 * mse(clean));
    expect(() => reconstructImage(autoencoder, image, 0.5)).toThrow(/expected a random stream/);
  });
});

describe('augmentImage', () => {
  it('is a function of the random stream: the same stream gives the same image, others differ', () => {
    const a = augmentImage(image, new SampleRandom(7, 1), autoencoder);
    const b = augmentImage(image, new SampleRandom(7, 1), autoencoder);
    expect(Array.from(a)).toEqual(Array.from(b));
    const others = Array.from({ length: 8 }, (_, i) =>
      augmentImage(image, new SampleRandom(7, 100 + i), autoencoder),
    );
    expect(others.some((o) => o.some((v, i) => v !== a[i]))).toBe(true);
  });

  it('with every probability 0 only rounds to 8 bits', () => {
    const none = {
      ...DEFAULT_AUGMENTATION,
      reconstruction: 0,
      shift: 0,
      colourJitter: 0,
      blur: 0,
      noise: 0,
    };
    expect(Array.from(augmentImage(image, new SampleRandom(0, 0), autoencoder, none))).toEqual(
      Array.from(quantize8Bit(image)),
    );
  });
});
