import { describe, expect, it } from 'vitest';
import { Generator, randn } from '../index';

describe('randn matches torch.manual_seed(seed); torch.randn(shape)', () => {
  it('seed 0, [4, 3, 8, 8]: first six values', async () => {
    const v = await randn([4, 3, 8, 8], { seed: 0 }).data();
    const expected = [-1.1258398, -1.1523602, -0.25057858, -0.4338788, 0.84871036, 0.69200915];
    expected.forEach((e, i) => {
      expect(v[i]).toBeCloseTo(e, 6);
    });
  });

  it('seed 42, [2, 3, 5, 7]: the tail block is redrawn over the last 16', async () => {
    const v = await randn([2, 3, 5, 7], { seed: 42 }).data();
    expect(v.length).toBe(210);
    [1.9269153, 1.4872841, 0.9007172, -2.105521].forEach((e, i) => {
      expect(v[i]).toBeCloseTo(e, 6);
    });
    [1.0350032, 1.6896471, 0.021274, -0.8292708].forEach((e, i) => {
      expect(v[206 + i]).toBeCloseTo(e, 6);
    });
  });

  it('a Generator continues one stream across calls', async () => {
    const g = new Generator(7);
    const a = await g.randn([32]).data();
    const b = await g.randn([32]).data();
    const both = new Generator(7).randnValues(64);
    expect(Array.from(a)).toEqual(Array.from(both.subarray(0, 32)));
    expect(Array.from(b)).toEqual(Array.from(both.subarray(32)));
  });

  it('is standard normal in distribution', () => {
    const v = new Generator(1).randnValues(100_000);
    let s = 0;
    let s2 = 0;
    for (const x of v) {
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / v.length)).toBeLessThan(0.01);
    expect(Math.abs(s2 / v.length - 1)).toBeLessThan(0.02);
  });

  it('rejects invalid seeds with a typed error', () => {
    expect(() => new Generator(-1)).toThrow(/non-negative integer/);
    expect(() => new Generator(1.5)).toThrow(/non-negative integer/);
  });
});
