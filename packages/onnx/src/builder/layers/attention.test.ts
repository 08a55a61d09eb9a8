import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph-builder';
import {
  linearRef,
  type Mat,
  mat,
  matmul,
  maxAbsDiff,
  softmaxRef,
  testValues,
} from '../test-support/reference-math';
import { runOnnx } from '../test-support/run-onnx';
import { attention } from './attention';

/** Multi-head attention of one sample's tokens, head by head. */
function attentionRef(
  x: Mat,
  context: Mat,
  p: ReadonlyMap<string, Float32Array>,
  prefix: string,
  heads: number,
) {
  const dim = x.cols;
  const proj = (input: Mat, name: string) =>
    linearRef(input, p.get(`${prefix}.${name}.weight`)!, p.get(`${prefix}.${name}.bias`), dim);
  const [q, k, v] = [proj(x, 'to_q'), proj(context, 'to_k'), proj(context, 'to_v')];
  const hd = dim / heads;
  const merged = new Float64Array(x.rows * dim);
  for (let h = 0; h < heads; h++) {
    const cols = (m: Mat) =>
      mat(
        Array.from({ length: m.rows * hd }, (_, i) => m.data[Math.floor(i / hd) * dim + h * hd + (i % hd)]!),
        m.rows,
        hd,
      );
    const [qh, kh, vh] = [cols(q), cols(k), cols(v)];
    const kT = mat(
      Array.from({ length: hd * kh.rows }, (_, i) => kh.data[(i % kh.rows) * hd + Math.floor(i / kh.rows)]!),
      hd,
      kh.rows,
    );
    const scores = matmul(qh, kT);
    const probs = softmaxRef({ ...scores, data: scores.data.map((s) => s / Math.sqrt(hd)) });
    const oh = matmul(probs, vh);
    for (let r = 0; r < x.rows; r++)
      for (let j = 0; j < hd; j++) merged[r * dim + h * hd + j] = oh.data[r * hd + j]!;
  }
  return linearRef(
    mat(merged, x.rows, dim),
    p.get(`${prefix}.to_out.0.weight`)!,
    p.get(`${prefix}.to_out.0.bias`),
    dim,
  );
}

describe('attention', () => {
  it('self-attention matches per-head softmax(QKᵀ/√d)·V with diffusers names', async () => {
    const [batch, tokens, dim, heads] = [2, 5, 8, 2];
    const g = new GraphBuilder({ seed: 7 });
    const x = g.input('x', 'float32', ['batch', 'tokens', dim]);
    g.output(attention(g, x, { name: 'blocks.1.attn1', dim, heads }), 'y');
    const p = g.parameters();
    expect([...p.keys()].filter((k) => k.endsWith('.weight'))).toEqual([
      'blocks.1.attn1.to_q.weight',
      'blocks.1.attn1.to_k.weight',
      'blocks.1.attn1.to_v.weight',
      'blocks.1.attn1.to_out.0.weight',
    ]);
    const model = g.toModel();
    const names = model.graph!.node!.map((n) => n.name);
    expect(names).toContain('blocks.1.attn1.attention_probs');
    expect(model.graph!.node!.find((n) => n.name === 'blocks.1.attn1.attention_probs')?.opType).toBe(
      'Softmax',
    );

    const xs = testValues(batch * tokens * dim, 9, 2);
    const out = await runOnnx(model, { x: { data: xs, dims: [batch, tokens, dim] } });
    expect(out.y?.dims).toEqual([batch, tokens, dim]);
    for (let b = 0; b < batch; b++) {
      const xb = mat(xs.subarray(b * tokens * dim, (b + 1) * tokens * dim), tokens, dim);
      const expected = attentionRef(xb, xb, p, 'blocks.1.attn1', heads);
      const got = out.y!.data.subarray(b * tokens * dim, (b + 1) * tokens * dim);
      expect(maxAbsDiff(got, expected.data)).toBeLessThan(1e-5);
    }
  });

  it('cross-attention takes keys and values from a context of another width and length', async () => {
    const [batch, tokens, ctxLen, dim, ctxDim, heads] = [2, 3, 6, 8, 5, 4];
    const g = new GraphBuilder({ seed: 8 });
    const x = g.input('x', 'float32', ['batch', tokens, dim]);
    const ctx = g.input('encoder_hidden_states', 'float32', ['batch', ctxLen, ctxDim]);
    g.output(
      attention(g, x, { name: 'attn2', dim, heads, context: ctx, contextDim: ctxDim, qkvBias: false }),
      'y',
    );
    const p = g.parameters();
    expect(p.has('attn2.to_q.bias')).toBe(false);
    expect(p.get('attn2.to_k.weight')?.length).toBe(ctxDim * dim);
    const xs = testValues(batch * tokens * dim, 10);
    const cs = testValues(batch * ctxLen * ctxDim, 12);
    const out = await runOnnx(g.toModel(), {
      x: { data: xs, dims: [batch, tokens, dim] },
      encoder_hidden_states: { data: cs, dims: [batch, ctxLen, ctxDim] },
    });
    for (let b = 0; b < batch; b++) {
      const xb = mat(xs.subarray(b * tokens * dim, (b + 1) * tokens * dim), tokens, dim);
      const cb = mat(cs.subarray(b * ctxLen * ctxDim, (b + 1) * ctxLen * ctxDim), ctxLen, ctxDim);
      const expected = attentionRef(xb, cb, p, 'attn2', heads);
      expect(
        maxAbsDiff(out.y!.data.subarray(b * tokens * dim, (b + 1) * tokens * dim), expected.data),
      ).toBeLessThan(1e-5);
    }
  });

  it('rejects a head count that does not divide the width', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 4, 6]);
    expect(() => attention(g, x, { name: 'attn', dim: 6, heads: 4 })).toThrow(/heads dividing dim 6, got 4/);
  });
});
