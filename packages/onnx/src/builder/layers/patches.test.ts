import { ShapeMismatchError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph-builder';
import { maxAbsDiff, testValues } from '../test-support/reference-math';
import { runOnnx } from '../test-support/run-onnx';
import { patchify, unpatchify } from './patches';

describe('patchify / unpatchify', () => {
  const geometry = { patchSize: 2, channels: 3, height: 4, width: 6 };

  it('orders tokens row-major and each patch as (row, column, channel), and round-trips', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 3, 4, 6]);
    const tokens = patchify(g, x, geometry);
    expect(tokens.shape).toEqual(['batch', 6, 12]);
    g.output(tokens, 'tokens');
    g.output(unpatchify(g, g.mul(tokens, 1), geometry), 'image');
    const xs = testValues(2 * 3 * 4 * 6, 13);
    const out = await runOnnx(g.toModel(), { x: { data: xs, dims: [2, 3, 4, 6] } });
    const expected: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let ph = 0; ph < 2; ph++)
        for (let pw = 0; pw < 3; pw++)
          for (let r = 0; r < 2; r++)
            for (let col = 0; col < 2; col++)
              for (let ch = 0; ch < 3; ch++)
                expected.push(xs[((b * 3 + ch) * 4 + ph * 2 + r) * 6 + pw * 2 + col]!);
    expect(maxAbsDiff(out.tokens!.data, expected)).toBe(0);
    expect(out.image?.dims).toEqual([2, 3, 4, 6]);
    expect(maxAbsDiff(out.image!.data, xs)).toBe(0);
  });

  it('rejects images whose size is not a multiple of the patch', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 3, 5, 6]);
    expect(() => patchify(g, x, { ...geometry, height: 5 })).toThrow(ShapeMismatchError);
    expect(() => patchify(g, x, geometry)).toThrow(/\[batch, 3, 4, 6\]/);
  });
});
