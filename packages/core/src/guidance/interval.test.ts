import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors';
import { tensor } from '../tensor/index';
import {
  type GuidanceContext,
  classifierFreeGuidance,
  guidanceInterval,
  perturbedAttentionGuidance,
} from './index';

const ctx = (timestep: number): GuidanceContext => ({ timestep, stepIndex: 0, numSteps: 10 });

describe('guidanceInterval', () => {
  const g = guidanceInterval(classifierFreeGuidance({ guidanceScale: 3 }), { start: 200, end: 800 });
  const u = () => tensor([1, 1], [1, 2]);
  const c = () => tensor([2, 4], [1, 2]);

  it('needs the inner passes inside [start, end] (inclusive) and only cond outside', () => {
    expect(g.passes(ctx(900))).toEqual(['cond']);
    expect(g.passes(ctx(800))).toEqual(['uncond', 'cond']);
    expect(g.passes(ctx(500))).toEqual(['uncond', 'cond']);
    expect(g.passes(ctx(200))).toEqual(['uncond', 'cond']);
    expect(g.passes(ctx(199))).toEqual(['cond']);
    expect(g.name).toBe('guidanceInterval(classifierFreeGuidance)');
  });

  it('combines with the inner guidance inside and returns a copy of cond outside', async () => {
    // 1 + 3·(c − 1)
    expect(Array.from(await g.combine({ uncond: u(), cond: c() }, ctx(500)).data())).toEqual([4, 10]);
    const cond = c();
    const outside = g.combine({ cond }, ctx(900));
    expect(outside).not.toBe(cond);
    expect(Array.from(await outside.data())).toEqual([2, 4]);
  });

  it('wraps any guidance, e.g. PAG with CFG on flow-time steps in [0, 1]', () => {
    const pag = guidanceInterval(perturbedAttentionGuidance({ pagScale: 2, guidanceScale: 4 }), {
      start: 0.1,
      end: 0.6,
    });
    expect(pag.contains(0.05)).toBe(false);
    expect(pag.passes(ctx(0.3))).toEqual(['uncond', 'cond', 'perturbed']);
    expect(pag.passes(ctx(0.7))).toEqual(['cond']);
  });

  it('rejects an empty or malformed interval', () => {
    const inner = classifierFreeGuidance({ guidanceScale: 3 });
    expect(() => guidanceInterval(inner, { start: 800, end: 200 })).toThrow(
      /expected start ≤ end .* got start 800, end 200/,
    );
    expect(() => guidanceInterval(inner, { start: Number.NaN, end: 200 })).toThrow(InvalidArgumentError);
  });

  it('outside the interval still requires the cond output', () => {
    expect(() => g.combine({ uncond: u() } as never, ctx(900))).toThrow(/"cond" pass output/);
  });
});
