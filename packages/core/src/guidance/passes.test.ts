import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeMismatchError } from '../errors';
import { tensor } from '../tensor/index';
import { PASS_ORDER, noGuidance, splitPasses, stackPasses } from './index';

describe('stackPasses / splitPasses', () => {
  it('stacks per-pass inputs along axis 0 in batch order', async () => {
    const x = stackPasses(['uncond', 'cond', 'perturbed'], {
      uncond: tensor([1, 2], [1, 2]),
      cond: tensor([3, 4], [1, 2]),
      perturbed: tensor([5, 6], [1, 2]),
    });
    expect(x.shape).toEqual([3, 2]);
    expect(Array.from(await x.data())).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('repeats one tensor for every pass (the latents)', async () => {
    const x = stackPasses(['uncond', 'cond'], tensor([1, 2, 3, 4], [2, 2]));
    expect(x.shape).toEqual([4, 2]);
    expect(Array.from(await x.data())).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
  });

  it('splits a batched output back into one tensor per pass', async () => {
    const batched = tensor([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const parts = splitPasses(batched, ['uncond', 'cond']);
    expect(parts.uncond?.shape).toEqual([2, 2]);
    expect(Array.from(await (parts.uncond as NonNullable<typeof parts.uncond>).data())).toEqual([1, 2, 3, 4]);
    expect(Array.from(await parts.cond.data())).toEqual([5, 6, 7, 8]);
    expect(parts.perturbed).toBeUndefined();
    expect(Array.from(await splitPasses(batched, ['cond']).cond.data())).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('round-trips with stackPasses', async () => {
    const passes = ['cond', 'perturbed'] as const;
    const parts = splitPasses(
      stackPasses(passes, { cond: tensor([7], [1, 1]), perturbed: tensor([8], [1, 1]) }),
      passes,
    );
    expect(Array.from(await parts.cond.data())).toEqual([7]);
    expect(Array.from(await (parts.perturbed as NonNullable<typeof parts.perturbed>).data())).toEqual([8]);
  });

  it('rejects pass lists out of batch order, with duplicates, unknown names or without cond', () => {
    const x = tensor([1, 2], [2, 1]);
    expect(() => splitPasses(x, ['cond', 'uncond'])).toThrow(/batch order \[uncond, cond, perturbed\]/);
    expect(() => splitPasses(x, ['cond', 'cond'])).toThrow(InvalidArgumentError);
    expect(() => splitPasses(x, ['cond', 'negative' as never])).toThrow(/unknown pass "negative"/);
    expect(() => splitPasses(x, ['uncond', 'perturbed'])).toThrow(/expected the 'cond' pass/);
    expect(() => stackPasses([], x)).toThrow(InvalidArgumentError);
  });

  it('rejects a batch that does not split evenly', () => {
    expect(() => splitPasses(tensor([1, 2, 3], [3, 1]), ['uncond', 'cond'])).toThrow(ShapeMismatchError);
    expect(() => splitPasses(tensor([1, 2, 3], [3, 1]), ['uncond', 'cond'])).toThrow(
      /expected shape \[2·B, …\], got \[3, 1\]/,
    );
  });

  it('names a missing per-pass input', () => {
    expect(() => stackPasses(['uncond', 'cond'], { cond: tensor([1], [1]) })).toThrow(/"uncond" pass/);
  });

  it('exports the batch order', () => {
    expect(PASS_ORDER).toEqual(['uncond', 'cond', 'perturbed']);
  });
});

describe('noGuidance', () => {
  it('needs the cond pass only and returns a copy of its output', async () => {
    const g = noGuidance();
    const ctx = { timestep: 10, stepIndex: 0, numSteps: 1 };
    expect(g.passes(ctx)).toEqual(['cond']);
    const cond = tensor([1, 2], [1, 2]);
    const out = g.combine({ cond }, ctx);
    expect(out).not.toBe(cond);
    expect(Array.from(await out.data())).toEqual([1, 2]);
  });
});
