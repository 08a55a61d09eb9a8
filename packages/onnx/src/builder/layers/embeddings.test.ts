import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph-builder';
import { linearRef, map, mat, maxAbsDiff, siluRef } from '../test-support/reference-math';
import { runOnnx } from '../test-support/run-onnx';
import {
  labelEmbedding,
  positionEmbedding2d,
  sincosPositionEmbedding2d,
  sinusoidalTimestepEmbedding,
  timestepEmbedder,
} from './embeddings';

const timesteps = Float32Array.of(0, 1, 250.5, 999);

describe('timestep embeddings', () => {
  it('sinusoidal embedding equals diffusers get_timestep_embedding (both orders, freq shift)', async () => {
    const g = new GraphBuilder();
    const t = g.input('t', 'float32', ['batch']);
    g.output(sinusoidalTimestepEmbedding(g, t, { dim: 8 }), 'sin_cos');
    g.output(
      sinusoidalTimestepEmbedding(g, t, { dim: 8, flipSinToCos: true, downscaleFreqShift: 1 }),
      'cos_sin',
    );
    const out = await runOnnx(g.toModel(), { t: { data: timesteps, dims: [4] } });
    const expected = (flip: boolean, shift: number) =>
      Array.from(timesteps).flatMap((tv) => {
        const args = Array.from(
          { length: 4 },
          (_, i) => tv * Math.exp((-Math.log(10_000) * i) / (4 - shift)),
        );
        const sin = args.map(Math.sin);
        const cos = args.map(Math.cos);
        return flip ? [...cos, ...sin] : [...sin, ...cos];
      });
    expect(out.sin_cos?.dims).toEqual([4, 8]);
    // float32 arguments near 1000 carry ~6e-5 rounding into sin/cos.
    expect(maxAbsDiff(out.sin_cos!.data, expected(false, 0))).toBeLessThan(2e-4);
    expect(maxAbsDiff(out.cos_sin!.data, expected(true, 1))).toBeLessThan(2e-4);
  });

  it('the DiT timestep embedder is sinusoid → linear_1 → SiLU → linear_2', async () => {
    const g = new GraphBuilder({ seed: 3 });
    const t = g.input('t', 'float32', ['batch']);
    g.output(timestepEmbedder(g, t, { name: 't_embedder', dim: 6, frequencyDim: 8 }), 'emb');
    const p = g.parameters();
    const out = await runOnnx(g.toModel(), { t: { data: timesteps, dims: [4] } });
    const freq = Array.from(timesteps).flatMap((tv) => {
      const args = Array.from({ length: 4 }, (_, i) => tv * Math.exp((-Math.log(10_000) * i) / 4));
      return [...args.map(Math.cos), ...args.map(Math.sin)];
    });
    const h = map(
      linearRef(mat(freq, 4, 8), p.get('t_embedder.linear_1.weight')!, p.get('t_embedder.linear_1.bias')!, 6),
      siluRef,
    );
    const y = linearRef(h, p.get('t_embedder.linear_2.weight')!, p.get('t_embedder.linear_2.bias')!, 6);
    // The float32 sinusoid of t = 999 differs from the float64 one by ~6e-5, which the layers carry.
    expect(maxAbsDiff(out.emb!.data, y.data)).toBeLessThan(1e-3);
  });

  it('rejects odd widths and integer timesteps', () => {
    const g = new GraphBuilder();
    const t = g.input('t', 'float32', ['batch']);
    expect(() => sinusoidalTimestepEmbedding(g, t, { dim: 7 })).toThrow(/even dim/);
    const ti = g.input('ti', 'int64', ['batch']);
    expect(() => sinusoidalTimestepEmbedding(g, ti, { dim: 8 })).toThrow(/float32 timesteps/);
  });
});

describe('labelEmbedding', () => {
  it('gathers rows of the table, including the null class', async () => {
    const g = new GraphBuilder({ seed: 5 });
    const y = g.input('y', 'int64', ['batch']);
    g.output(labelEmbedding(g, y, { name: 'y_embedder', numClasses: 10, dim: 4 }), 'emb');
    const table = g.parameters().get('y_embedder.embedding_table.weight')!;
    expect(table.length).toBe(11 * 4);
    const labels = BigInt64Array.of(3n, 10n, 0n);
    const out = await runOnnx(g.toModel(), { y: { data: labels, dims: [3] } });
    const expected = Array.from(labels).flatMap((l) =>
      Array.from(table.subarray(Number(l) * 4, Number(l) * 4 + 4)),
    );
    expect(out.emb?.dims).toEqual([3, 4]);
    expect(maxAbsDiff(out.emb!.data, expected)).toBe(0);
  });
});

describe('2-D position embedding', () => {
  it('encodes column then row as [sin, cos] and is a fixed constant', async () => {
    const pe = sincosPositionEmbedding2d(8, 3);
    // token (row 1, col 2): column part first, with ω = [1, 1/100].
    const token = pe.subarray((1 * 3 + 2) * 8, (1 * 3 + 3) * 8);
    const expected = [
      Math.sin(2),
      Math.sin(0.02),
      Math.cos(2),
      Math.cos(0.02),
      Math.sin(1),
      Math.sin(0.01),
      Math.cos(1),
      Math.cos(0.01),
    ];
    expect(maxAbsDiff(token, expected)).toBeLessThan(1e-6);
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 9, 8]);
    g.output(g.add(x, positionEmbedding2d(g, { dim: 8, gridSize: 3 })), 'y');
    expect(g.parameters().size).toBe(0);
    const out = await runOnnx(g.toModel(), { x: { data: new Float32Array(72), dims: [1, 9, 8] } });
    expect(maxAbsDiff(out.y!.data, pe)).toBe(0);
  });
});
