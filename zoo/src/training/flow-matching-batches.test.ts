import { Generator, InvalidArgumentError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { FlowMatchingBatches, type FlowMatchingBatchesOptions, permutation } from './flow-matching-batches';

const D = 8;
const COUNT = 10;
/** Latent i is filled with the value i, so a row of a batch names its source. */
const latents = Float32Array.from({ length: COUNT * D }, (_, k) => Math.floor(k / D));
const labels = Uint8Array.from({ length: COUNT }, (_, i) => i % 3);
const options: FlowMatchingBatchesOptions = {
  latents,
  labels,
  sampleSize: D,
  batchSize: 4,
  numClasses: 3,
  labelDropout: 0.1,
  seed: 7,
};

describe('flow-matching batches', () => {
  it('build the SiT interpolant and velocity target from the drawn latents', () => {
    const { xt, t, y, target, indices } = new FlowMatchingBatches(options).batch(3);
    expect(xt).toHaveLength(4 * D);
    for (let i = 0; i < 4; i++) {
      const ti = t[i] as number;
      expect(ti).toBeGreaterThanOrEqual(0);
      expect(ti).toBeLessThan(1);
      const row = indices[i] as number;
      expect([labels[row], 3]).toContain(y[i]);
      for (let k = 0; k < D; k++) {
        // x1 = x_t + (1 − t)·(x1 − x0) recovers the data, x0 = x1 − target the noise.
        const x1 = (xt[i * D + k] as number) + (1 - ti) * (target[i * D + k] as number);
        expect(x1).toBeCloseTo(row, 5);
      }
    }
  });

  it('are a pure function of (seed, step): a fresh instance, in any order, gives the same batch', () => {
    const a = new FlowMatchingBatches(options);
    const later = a.batch(7);
    const b = new FlowMatchingBatches(options);
    b.batch(2);
    expect(b.batch(7)).toEqual(later);
    expect(a.batch(6)).not.toEqual(later);
    expect(new FlowMatchingBatches({ ...options, seed: 8 }).batch(7)).not.toEqual(later);
  });

  it('visit every latent once per epoch, in a new order each epoch', () => {
    const batches = new FlowMatchingBatches(options);
    // 5 batches of 4 = the positions 0..19 = two epochs of 10.
    const rows = Array.from({ length: 5 }, (_, s) => [...batches.batch(s).indices]).flat();
    const first = rows.slice(0, COUNT);
    const second = rows.slice(COUNT);
    expect([...first].sort((p, q) => p - q)).toEqual([...Array(COUNT).keys()]);
    expect([...second].sort((p, q) => p - q)).toEqual([...Array(COUNT).keys()]);
    expect(second).not.toEqual(first);
  });

  it('drop about the requested share of labels to the null class', () => {
    const batches = new FlowMatchingBatches({ ...options, batchSize: 10, labelDropout: 0.25 });
    let dropped = 0;
    let total = 0;
    for (let s = 0; s < 200; s++) {
      const { y, indices } = batches.batch(s);
      y.forEach((label, i) => {
        total++;
        if (label === 3) dropped++;
        else expect(label).toBe(labels[indices[i] as number]);
      });
    }
    expect(dropped / total).toBeGreaterThan(0.2);
    expect(dropped / total).toBeLessThan(0.3);
  });

  it('reject inconsistent data and options', () => {
    expect(() => new FlowMatchingBatches({ ...options, sampleSize: 3 })).toThrow(InvalidArgumentError);
    expect(() => new FlowMatchingBatches({ ...options, labels: labels.subarray(1) })).toThrow(
      /one label per latent/,
    );
    expect(() => new FlowMatchingBatches({ ...options, batchSize: 11 })).toThrow(/batch size in \[1, 10\]/);
    expect(() => new FlowMatchingBatches({ ...options, numClasses: 2 })).toThrow(/label 2 is 2/);
    expect(() => new FlowMatchingBatches(options).batch(-1)).toThrow(/non-negative integer step/);
  });
});

describe('permutation', () => {
  it('is a seeded permutation', () => {
    const p = permutation(1000, new Generator(1));
    expect([...p].sort((a, b) => a - b)).toEqual([...Array(1000).keys()]);
    expect(permutation(1000, new Generator(1))).toEqual(p);
    expect(permutation(1000, new Generator(2))).not.toEqual(p);
  });
});
