import { describe, expect, it } from 'vitest';
import { NUM_CLASSES } from './classes';
import { generateDataset, generateSample } from './dataset';

describe('generateDataset', () => {
  it('is deterministic from the seed, and sample i does not depend on the dataset size', () => {
    const a = generateDataset({ seed: 5, count: 30 });
    const b = generateDataset({ seed: 5, count: 30 });
    const shorter = generateDataset({ seed: 5, count: 20 });
    const other = generateDataset({ seed: 6, count: 30 });
    expect(a.images).toEqual(b.images);
    expect(a.captions).toEqual(b.captions);
    expect(a.images.subarray(0, shorter.images.length)).toEqual(shorter.images);
    expect(a.images).not.toEqual(other.images);
    const single = generateSample(5, 17);
    expect(single.image).toEqual(a.images.subarray(17 * 768, 18 * 768));
    expect(single.caption).toBe(a.captions[17]);
  });

  it('balances the classes exactly and keeps pixels in [-1, 1]', () => {
    const d = generateDataset({ seed: 1, count: 500 });
    const counts = new Array(NUM_CLASSES).fill(0);
    for (const l of d.labels) counts[l]++;
    expect(counts).toEqual(new Array(NUM_CLASSES).fill(50));
    expect(d.images.every((v) => v >= -1 && v <= 1)).toBe(true);
    // Both ends of the range are used (dark shades and light backgrounds), not squeezed into the middle.
    expect(d.images.some((v) => v < -0.8)).toBe(true);
    expect(d.images.some((v) => v > 0.8)).toBe(true);
    expect(d.images.length).toBe(500 * 3 * 16 * 16);
  });

  it('varies position, size, shade and background within a class', () => {
    const samples = Array.from({ length: 40 }, (_, i) => generateSample(2, i * NUM_CLASSES + 3).attributes);
    const spread = (values: number[]) => Math.max(...values) - Math.min(...values);
    expect(new Set(samples.map((s) => s.label))).toEqual(new Set([3]));
    expect(spread(samples.map((s) => s.centreX))).toBeGreaterThan(0.15);
    expect(spread(samples.map((s) => s.centreY))).toBeGreaterThan(0.15);
    expect(spread(samples.map((s) => s.radius))).toBeGreaterThan(0.08);
    expect(spread(samples.map((s) => s.value))).toBeGreaterThan(0.25);
    expect(spread(samples.map((s) => s.hue))).toBeGreaterThan(20);
    expect(spread(samples.map((s) => s.backgroundGrey))).toBeGreaterThan(0.3);
  });

  it('renders 32×32 images of the same scenes', () => {
    const small = generateSample(3, 4, 16);
    const large = generateSample(3, 4, 32);
    expect(large.image.length).toBe(3 * 32 * 32);
    expect(large.attributes).toEqual(small.attributes);
  });

  it('rejects invalid sizes and indices with typed errors', () => {
    expect(() => generateDataset({ seed: 0, count: 0 })).toThrow(/positive integer, got 0/);
    expect(() => generateDataset({ seed: 0, count: 1, imageSize: 2 })).toThrow(/integer ≥ 4, got 2/);
    expect(() => generateSample(0, -1)).toThrow(/non-negative integer, got -1/);
  });
});
