import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph-builder';
import { linearRef, map, mat, maxAbsDiff, siluRef, testValues } from '../test-support/reference-math';
import { runOnnx } from '../test-support/run-onnx';
import { adaLNModulation, gatedResidual, modulate } from './modulation';

describe('adaLN modulation', () => {
  it('starts as zeros (adaLN-Zero) with DiT names', () => {
    const g = new GraphBuilder();
    const c = g.input('c', 'float32', ['batch', 4]);
    const chunks = adaLNModulation(g, c, { name: 'blocks.0', dim: 4, chunks: 6 });
    expect(chunks.length).toBe(6);
    expect(chunks[0]?.shape).toEqual(['batch', 4]);
    expect(Math.max(...g.parameters().get('blocks.0.adaLN_modulation.1.weight')!.map(Math.abs))).toBe(0);
  });

  it('shift/scale/gate from a conditioning vector modulate and gate tokens like DiT', async () => {
    const [batch, tokens, dim] = [2, 3, 4];
    const weights = {
      'final.adaLN_modulation.1.weight': testValues(dim * 3 * dim, 1),
      'final.adaLN_modulation.1.bias': testValues(3 * dim, 2),
    };
    const g = new GraphBuilder({ weights });
    const x = g.input('x', 'float32', ['batch', tokens, dim]);
    const c = g.input('c', 'float32', ['batch', dim]);
    const [shift, scale, gate] = adaLNModulation(g, c, { name: 'final', dim, chunks: 3 }) as [
      typeof x,
      typeof x,
      typeof x,
    ];
    g.output(gatedResidual(g, x, gate, modulate(g, x, shift, scale)), 'y');
    const xs = testValues(batch * tokens * dim, 3);
    const cs = testValues(batch * dim, 4);
    const out = await runOnnx(g.toModel(), {
      x: { data: xs, dims: [batch, tokens, dim] },
      c: { data: cs, dims: [batch, dim] },
    });
    const params = linearRef(
      map(mat(cs, batch, dim), siluRef),
      weights['final.adaLN_modulation.1.weight'],
      weights['final.adaLN_modulation.1.bias'],
      3 * dim,
    );
    const expected = Array.from(xs, (v, i) => {
      const b = Math.floor(i / (tokens * dim));
      const j = i % dim;
      const at = (chunk: number) => params.data[b * 3 * dim + chunk * dim + j]!;
      return v + at(2) * (v * (1 + at(1)) + at(0));
    });
    expect(maxAbsDiff(out.y!.data, expected)).toBeLessThan(1e-5);
  });
});
