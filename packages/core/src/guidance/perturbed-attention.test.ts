import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeMismatchError } from '../errors';
import { type Tensor, tensor } from '../tensor/index';
import { type GuidanceContext, perturbedAttentionGuidance } from './index';

const ctx = (timestep = 999): GuidanceContext => ({ timestep, stepIndex: 0, numSteps: 10 });
const values = async (x: Tensor) => Array.from(await x.data());
const u = () => tensor([0, 0], [1, 2]);
const c = () => tensor([1, 2], [1, 2]);
const p = () => tensor([0, 4], [1, 2]);

describe('perturbedAttentionGuidance: passes', () => {
  it('PAG alone asks for [cond, perturbed]; with CFG for all three, in batch order', () => {
    expect(perturbedAttentionGuidance({ pagScale: 3 }).passes(ctx())).toEqual(['cond', 'perturbed']);
    expect(perturbedAttentionGuidance({ pagScale: 3, guidanceScale: 7 }).passes(ctx())).toEqual([
      'uncond',
      'cond',
      'perturbed',
    ]);
  });

  it('drops the perturbed pass when its scale is 0', () => {
    expect(perturbedAttentionGuidance({ pagScale: 0 }).passes(ctx())).toEqual(['cond']);
    expect(perturbedAttentionGuidance({ pagScale: 0, guidanceScale: 5 }).passes(ctx())).toEqual([
      'uncond',
      'cond',
    ]);
  });
});

describe('perturbedAttentionGuidance: combine', () => {
  it('alone: c + s·(c − p)', async () => {
    const out = perturbedAttentionGuidance({ pagScale: 2 }).combine({ cond: c(), perturbed: p() }, ctx());
    // [1 + 2·1, 2 + 2·(−2)]
    expect(await values(out)).toEqual([3, -2]);
  });

  it('with CFG: u + w·(c − u) + s·(c − p)', async () => {
    const g = perturbedAttentionGuidance({ pagScale: 2, guidanceScale: 3 });
    const out = g.combine({ uncond: u(), cond: c(), perturbed: p() }, ctx());
    // 0 + 3·[1, 2] + 2·[1, −2]
    expect(await values(out)).toEqual([5, 2]);
  });

  it('with CFG disabled (w ≤ 1) it ignores the uncond output', async () => {
    const g = perturbedAttentionGuidance({ pagScale: 2, guidanceScale: 1 });
    const out = g.combine({ uncond: tensor([100, 100], [1, 2]), cond: c(), perturbed: p() }, ctx());
    expect(await values(out)).toEqual([3, -2]);
  });

  it('applies guidance rescale only with CFG on', async () => {
    // cfg+pag = [5, 2] (std over 2 values, ratio std(c)/std(out) = 1/3); φ = 1 → [5/3, 2/3].
    const rescaled = perturbedAttentionGuidance({ pagScale: 2, guidanceScale: 3, guidanceRescale: 1 });
    const out = await values(rescaled.combine({ uncond: u(), cond: c(), perturbed: p() }, ctx()));
    expect(out[0]).toBeCloseTo(5 / 3, 6);
    expect(out[1]).toBeCloseTo(2 / 3, 6);
    const alone = perturbedAttentionGuidance({ pagScale: 2, guidanceRescale: 1 });
    expect(await values(alone.combine({ cond: c(), perturbed: p() }, ctx()))).toEqual([3, -2]);
  });
});

describe('perturbedAttentionGuidance: adaptive scale', () => {
  const g = perturbedAttentionGuidance({ pagScale: 3, pagAdaptiveScale: 0.25, guidanceScale: 3 });

  it('s_t = pagScale − pagAdaptiveScale·(1000 − t), clamped at 0', () => {
    expect(g.pagScaleAt(1000)).toBe(3);
    expect(g.pagScaleAt(996)).toBe(2);
    expect(g.pagScaleAt(990)).toBe(0.5);
    expect(g.pagScaleAt(988)).toBe(0);
    expect(g.pagScaleAt(500)).toBe(0);
    expect(perturbedAttentionGuidance({ pagScale: 3 }).pagScaleAt(1)).toBe(3);
  });

  it('combines with s_t and skips the perturbed pass once it reaches 0', async () => {
    const at996 = g.combine({ uncond: u(), cond: c(), perturbed: p() }, ctx(996));
    expect(await values(at996)).toEqual([5, 2]);
    expect(g.passes(ctx(500))).toEqual(['uncond', 'cond']);
    const at500 = g.combine({ uncond: u(), cond: c() }, ctx(500));
    expect(await values(at500)).toEqual([3, 6]);
    const alone = perturbedAttentionGuidance({ pagScale: 3, pagAdaptiveScale: 0.25 });
    expect(alone.passes(ctx(500))).toEqual(['cond']);
    expect(await values(alone.combine({ cond: c() }, ctx(500)))).toEqual([1, 2]);
  });
});

describe('perturbedAttentionGuidance: validation', () => {
  it('names the missing pass', () => {
    const g = perturbedAttentionGuidance({ pagScale: 3, guidanceScale: 5 });
    expect(() => g.combine({ uncond: u(), cond: c() }, ctx())).toThrow(/"perturbed" pass output/);
    expect(() => g.combine({ cond: c(), perturbed: p() }, ctx())).toThrow(InvalidArgumentError);
  });

  it('rejects a perturbed output of another shape', () => {
    const g = perturbedAttentionGuidance({ pagScale: 3 });
    expect(() => g.combine({ cond: c(), perturbed: tensor([1, 2, 3], [1, 3]) }, ctx())).toThrow(
      ShapeMismatchError,
    );
  });

  it('rejects negative scales', () => {
    expect(() => perturbedAttentionGuidance({ pagScale: -1 })).toThrow(/pagScale must be .* got -1/);
    expect(() => perturbedAttentionGuidance({ pagScale: 3, pagAdaptiveScale: -0.1 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => perturbedAttentionGuidance({ pagScale: 3, guidanceScale: -2 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => perturbedAttentionGuidance({ pagScale: 3, guidanceRescale: 2 })).toThrow(
      InvalidArgumentError,
    );
  });
});
