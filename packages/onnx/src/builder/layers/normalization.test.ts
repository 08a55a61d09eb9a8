import { ShapeMismatchError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph-builder';
import { layerNormRef, mat, maxAbsDiff, testValues } from '../test-support/reference-math';
import { runOnnx } from '../test-support/run-onnx';
import { groupNorm, layerNorm } from './normalization';

describe('layerNorm', () => {
  it('matches torch LayerNorm with and without affine parameters', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 3, 8]);
    const weights = {
      'norm.weight': testValues(8, 1, 2),
      'norm.bias': testValues(8, 2),
    };
    const h = new GraphBuilder({ weights });
    const hx = h.input('x', 'float32', ['batch', 3, 8]);
    h.output(layerNorm(h, hx, { name: 'norm', dim: 8 }), 'y');
    g.output(layerNorm(g, x, { name: 'norm1', dim: 8, eps: 1e-6, elementwiseAffine: false }), 'y');
    expect(g.parameters().size).toBe(0);

    const xs = testValues(2 * 3 * 8, 3, 4);
    const plain = await runOnnx(g.toModel(), { x: { data: xs, dims: [2, 3, 8] } });
    const affine = await runOnnx(h.toModel(), { x: { data: xs, dims: [2, 3, 8] } });
    const m = mat(xs, 6, 8);
    expect(maxAbsDiff(plain.y!.data, layerNormRef(m, 1e-6).data)).toBeLessThan(1e-5);
    expect(
      maxAbsDiff(affine.y!.data, layerNormRef(m, 1e-5, weights['norm.weight'], weights['norm.bias']).data),
    ).toBeLessThan(1e-5);
  });
});

describe('groupNorm', () => {
  it('normalises each group over its channels and positions, then applies per-channel affine', async () => {
    const [b, c, hw, groups] = [2, 6, 4, 3];
    const weights = { 'gn.weight': testValues(c, 4, 2), 'gn.bias': testValues(c, 5) };
    const g = new GraphBuilder({ weights });
    const x = g.input('x', 'float32', ['batch', c, 2, 2]);
    g.output(groupNorm(g, x, { name: 'gn', numGroups: groups, numChannels: c }), 'y');
    const xs = testValues(b * c * hw, 6, 3);
    const out = await runOnnx(g.toModel(), { x: { data: xs, dims: [b, c, 2, 2] } });
    // Each group is (c / groups) channels × hw positions, contiguous in NCHW.
    const perGroup = (c / groups) * hw;
    const normalized = layerNormRef(mat(xs, b * groups, perGroup), 1e-5).data;
    const expected = Array.from(normalized, (v, i) => {
      const channel = Math.floor(i / hw) % c;
      return v * weights['gn.weight'][channel]! + weights['gn.bias'][channel]!;
    });
    expect(out.y?.dims).toEqual([b, c, 2, 2]);
    expect(maxAbsDiff(out.y!.data, expected)).toBeLessThan(1e-5);
  });

  it('needs known spatial dims and channels divisible by the groups', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 6, 'h', 'w']);
    expect(() => groupNorm(g, x, { name: 'gn', numGroups: 3, numChannels: 6 })).toThrow(ShapeMismatchError);
    const y = g.input('y', 'float32', ['batch', 6, 2, 2]);
    expect(() => groupNorm(g, y, { name: 'gn', numGroups: 4, numChannels: 6 })).toThrow(/divisible by 4/);
  });
});
