import { Generator, InvalidArgumentError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import {
  lowFrequencyEnergy,
  lowFrequencyMask,
  normalizedFrequencyRadius,
  PowerSpectrum2d,
} from './low-frequency';

function cosinePattern(size: number, ky: number, kx: number): Float32Array {
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) out[y * size + x] = Math.cos((2 * Math.PI * (ky * y + kx * x)) / size);
  }
  return out;
}

describe('normalizedFrequencyRadius', () => {
  it('is 0 at the mean, 1 at the corner, and folds negative frequencies', () => {
    expect(normalizedFrequencyRadius(0, 0, 8, 8)).toBe(0);
    expect(normalizedFrequencyRadius(4, 4, 8, 8)).toBeCloseTo(1, 12);
    expect(normalizedFrequencyRadius(1, 0, 8, 8)).toBeCloseTo(normalizedFrequencyRadius(7, 0, 8, 8), 12);
  });

  it('keeps only the mean inside 10% on an 8×8 grid, and 5 bins inside 20%', () => {
    expect(lowFrequencyMask(8, 8, 0.1).reduce((s, m) => s + m, 0)).toBe(1);
    expect(lowFrequencyMask(8, 8, 0.2).reduce((s, m) => s + m, 0)).toBe(5);
  });
});

describe('PowerSpectrum2d', () => {
  it('satisfies Parseval: Σ|F|² = H·W·Σx²', () => {
    const plane = new Generator(3).randnValues(16 * 8);
    const power = new PowerSpectrum2d(16, 8).compute(plane);
    const energy = plane.reduce((s, v) => s + v * v, 0);
    expect(power.reduce((s, v) => s + v, 0)).toBeCloseTo(16 * 8 * energy, 3);
  });

  it('puts a cosine of frequency (2, 3) into bins (2, 3) and (−2, −3) only', () => {
    const power = new PowerSpectrum2d(16, 16).compute(cosinePattern(16, 2, 3));
    const peaks = [...power.keys()].filter((i) => (power[i] as number) > 1e-6);
    expect(peaks).toEqual([2 * 16 + 3, 14 * 16 + 13]);
  });

  it('rejects sides fft.js cannot transform', () => {
    expect(() => new PowerSpectrum2d(6, 8)).toThrow(InvalidArgumentError);
  });
});

describe('lowFrequencyEnergy', () => {
  it('is ≈ 1 for a pure low-frequency pattern', () => {
    // One cycle over 64 px: radius (1/64)/√½ ≈ 0.022, well inside 10%.
    const size = 64;
    const batch = new Float32Array(2 * size * size);
    batch.set(cosinePattern(size, 1, 0), 0);
    batch.set(cosinePattern(size, 0, 1), size * size);
    const { fraction } = lowFrequencyEnergy(batch, [1, 2, size, size], 0.1);
    expect(fraction).toBeGreaterThan(0.999);
  });

  it('is ≈ 0 for a pattern at the highest frequencies', () => {
    const size = 32;
    const { fraction } = lowFrequencyEnergy(cosinePattern(size, 16, 16), [1, 1, size, size], 0.1);
    expect(fraction).toBeLessThan(1e-9);
  });

  it('is ≈ the area fraction of the band for white noise', () => {
    const size = 32;
    const count = 64;
    const noise = new Generator(11).randnValues(count * size * size);
    const { fraction, binFraction } = lowFrequencyEnergy(noise, [count, 1, size, size], 0.1);
    // Radius ≤ 0.1·√½·32 ≈ 2.26 bins: the 21 bins with u² + v² ≤ 5 of 1024.
    expect(binFraction).toBeCloseTo(21 / 1024, 10);
    expect(Math.abs(fraction - binFraction) / binFraction).toBeLessThan(0.15);
  });

  it('names the expected shape when values and shape disagree', () => {
    expect(() => lowFrequencyEnergy(new Float32Array(10), [1, 1, 4, 4])).toThrow(/expected 16 values/);
  });
});
