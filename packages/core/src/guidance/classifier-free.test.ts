import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeMismatchError } from '../errors';
import { randn } from '../random/index';
import { type Tensor, tensor } from '../tensor/index';
import { type GuidanceContext, classifierFreeGuidance, rescaleNoiseCfg } from './index';

const ctx = (timestep = 500): GuidanceContext => ({ timestep, stepIndex: 0, numSteps: 10 });
const values = async (x: Tensor) => Array.from(await x.data());

describe('classifierFreeGuidance: passes', () => {
  it('asks for [uncond, cond] iff guidanceScale > 1, as diffusers enables it', () => {
    expect(classifierFreeGuidance({ guidanceScale: 7.5 }).passes(ctx())).toEqual(['uncond', 'cond']);
    expect(classifierFreeGuidance({ guidanceScale: 1 }).passes(ctx())).toEqual(['cond']);
    expect(classifierFreeGuidance({ guidanceScale: 0.5 }).passes(ctx())).toEqual(['cond']);
    expect(classifierFreeGuidance({ guidanceScale: 1.0001 }).enabled).toBe(true);
  });
});

describe('classifierFreeGuidance: combine', () => {
  it('computes u + w·(c − u)', async () => {
    const u = tensor([1, 2, 3, 4], [1, 4]);
    const c = tensor([2, 2, 5, 0], [1, 4]);
    const out = classifierFreeGuidance({ guidanceScale: 3 }).combine({ uncond: u, cond: c }, ctx());
    // 1 + 3·1, 2 + 3·0, 3 + 3·2, 4 + 3·(−4)
    expect(await values(out)).toEqual([4, 2, 9, -8]);
    expect(out.shape).toEqual([1, 4]);
  });

  it('returns a copy of the cond output when disabled (w ≤ 1), ignoring an uncond output', async () => {
    const c = tensor([2, 3], [1, 2]);
    const out = classifierFreeGuidance({ guidanceScale: 0.5 }).combine(
      { uncond: tensor([9, 9], [1, 2]), cond: c },
      ctx(),
    );
    expect(out).not.toBe(c);
    expect(await values(out)).toEqual([2, 3]);
    out.dispose();
    expect(c.isDisposed).toBe(false);
  });

  it('leaves its inputs alive', () => {
    const u = tensor([1, 2], [1, 2]);
    const c = tensor([3, 4], [1, 2]);
    classifierFreeGuidance({ guidanceScale: 5, guidanceRescale: 0.7 }).combine({ uncond: u, cond: c }, ctx());
    expect(u.isDisposed || c.isDisposed).toBe(false);
  });
});

describe('classifierFreeGuidance: guidance rescale', () => {
  // Per sample, over all non-batch dims of a [2, 2, 1, 2] output; w = 2, so cfg = 2c − u.
  // Sample 0: c = [0, 0, 2, 2], u = 0 → cfg = [0, 0, 4, 4]; unbiased std(c) = 2/√3, std(cfg) = 4/√3,
  //   ratio 1/2 → cfg_r = [0, 0, 2, 2]. Sample 1: c = [1, −1, 1, −1], u = −c → cfg = 3c;
  //   std(c) = √(4/3), std(cfg) = √(36/3), ratio 1/3 → cfg_r = c.
  // (The n − 1 of the unbiased std cancels in the ratio: the result equals the biased one.)
  const u = () => tensor([0, 0, 0, 0, -1, 1, -1, 1], [2, 2, 1, 2]);
  const c = () => tensor([0, 0, 2, 2, 1, -1, 1, -1], [2, 2, 1, 2]);

  it('blends φ·cfg·std(c)/std(cfg) + (1 − φ)·cfg with per-sample stds', async () => {
    const half = classifierFreeGuidance({ guidanceScale: 2, guidanceRescale: 0.5 });
    const out = await values(half.combine({ uncond: u(), cond: c() }, ctx()));
    // 0.5·cfg_r + 0.5·cfg
    const expected = [0, 0, 3, 3, 2, -2, 2, -2];
    for (const [i, v] of out.entries()) expect(v).toBeCloseTo(expected[i] as number, 6);
  });

  it('φ = 1 gives the fully rescaled output, φ = 0 plain CFG', async () => {
    const full = classifierFreeGuidance({ guidanceScale: 2, guidanceRescale: 1 });
    const out = await values(full.combine({ uncond: u(), cond: c() }, ctx()));
    const expected = [0, 0, 2, 2, 1, -1, 1, -1];
    for (const [i, v] of out.entries()) expect(v).toBeCloseTo(expected[i] as number, 6);
    const plain = classifierFreeGuidance({ guidanceScale: 2, guidanceRescale: 0 });
    expect(await values(plain.combine({ uncond: u(), cond: c() }, ctx()))).toEqual([
      0, 0, 4, 4, 3, -3, 3, -3,
    ]);
  });

  it('matches a direct float64 evaluation of the formula on random data', async () => {
    const shape = [3, 4, 5, 6];
    const uT = randn(shape, { seed: 1 });
    const cT = randn(shape, { seed: 2 });
    const [uv, cv] = [await uT.data(), await cT.data()];
    const w = 7.5;
    const phi = 0.7;
    const out = await classifierFreeGuidance({ guidanceScale: w, guidanceRescale: phi })
      .combine({ uncond: uT, cond: cT }, ctx())
      .data();
    const n = 4 * 5 * 6;
    const unbiasedStd = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
    };
    for (let b = 0; b < 3; b++) {
      const cs = Array.from(cv.subarray(b * n, (b + 1) * n));
      const cfg = cs.map((cj, j) => (uv[b * n + j] as number) + w * (cj - (uv[b * n + j] as number)));
      const ratio = unbiasedStd(cs) / unbiasedStd(cfg);
      cfg.forEach((g, j) => {
        expect(out[b * n + j]).toBeCloseTo(phi * g * ratio + (1 - phi) * g, 4);
      });
    }
  });

  it('rescaleNoiseCfg needs a batch axis and data axes', () => {
    const x = tensor([1, 2, 3], [3]);
    expect(() => rescaleNoiseCfg(x, x, 0.5)).toThrow(ShapeMismatchError);
  });
});

describe('classifierFreeGuidance: channel subset (DiT/SiT)', () => {
  it('guides the first `channels` channels and passes the rest through from cond, per sample', async () => {
    const u = tensor(new Float32Array(8), [2, 4, 1, 1]);
    const c = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4, 1, 1]);
    const g = classifierFreeGuidance({ guidanceScale: 2, channels: 3 });
    const out = g.combine({ uncond: u, cond: c }, ctx());
    expect(out.shape).toEqual([2, 4, 1, 1]);
    expect(await values(out)).toEqual([2, 4, 6, 4, 10, 12, 14, 8]);
  });

  it('handles spatial dims and equals full CFG when channels covers all of axis 1', async () => {
    const u = tensor([1, 1, 1, 1, 1, 1, 1, 1], [1, 4, 1, 2]);
    const c = tensor([1, 2, 3, 4, 5, 6, 7, 8], [1, 4, 1, 2]);
    const three = classifierFreeGuidance({ guidanceScale: 3, channels: 3 }).combine(
      { uncond: u, cond: c },
      ctx(),
    );
    // 1 + 3·(c − 1) on channels 0..2; channel 3 = c.
    expect(await values(three)).toEqual([1, 4, 7, 10, 13, 16, 7, 8]);
    const all = classifierFreeGuidance({ guidanceScale: 3, channels: 4 }).combine(
      { uncond: u, cond: c },
      ctx(),
    );
    expect(await values(all)).toEqual([1, 4, 7, 10, 13, 16, 19, 22]);
  });

  it('rejects more channels than the output has', () => {
    const x = tensor([1, 2], [1, 2]);
    const g = classifierFreeGuidance({ guidanceScale: 2, channels: 3 });
    expect(() => g.combine({ uncond: x, cond: x }, ctx())).toThrow(ShapeMismatchError);
  });
});

describe('classifierFreeGuidance: validation', () => {
  it('names the missing pass', () => {
    const g = classifierFreeGuidance({ guidanceScale: 5 });
    const c = tensor([1], [1, 1]);
    expect(() => g.combine({ cond: c }, ctx())).toThrow(InvalidArgumentError);
    expect(() => g.combine({ cond: c }, ctx())).toThrow(/"uncond" pass output/);
  });

  it('rejects outputs of different shapes', () => {
    const g = classifierFreeGuidance({ guidanceScale: 5 });
    const call = () => g.combine({ uncond: tensor([1, 2], [2, 1]), cond: tensor([1, 2], [1, 2]) }, ctx());
    expect(call).toThrow(ShapeMismatchError);
    expect(call).toThrow(/expected shape \[1, 2\], got \[2, 1\]/);
  });

  it('rejects negative or non-finite scales, φ outside [0, 1] and non-integer channels', () => {
    expect(() => classifierFreeGuidance({ guidanceScale: -1 })).toThrow(/guidanceScale .* got -1/);
    expect(() => classifierFreeGuidance({ guidanceScale: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => classifierFreeGuidance({ guidanceScale: 5, guidanceRescale: 1.5 })).toThrow(
      /guidanceRescale must be a finite number in \[0, 1\], got 1.5/,
    );
    expect(() => classifierFreeGuidance({ guidanceScale: 5, channels: 0 })).toThrow(InvalidArgumentError);
    expect(() => classifierFreeGuidance({ guidanceScale: 5, channels: 2.5 })).toThrow(/positive integer/);
  });
});
