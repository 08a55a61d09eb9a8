import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../builder/graph-builder';
import { attention } from '../builder/layers/attention';
import { linear } from '../builder/layers/linear';
import { layerNorm } from '../builder/layers/normalization';
import type { Value } from '../builder/value';
import type { ModelProto } from '../proto';
import { findAttentionLayers } from './attention-layers';
import { makePerturbedAttentionModel } from './perturbed-attention';
import { maxAbsDiff, runModel, type TensorRecord } from './test-support/pag-fixtures';

const [BATCH, TOKENS, DIM, HEADS, CONTEXT_TOKENS, CONTEXT_DIM] = [2, 6, 8, 2, 6, 5];

/**
 * Two pre-norm transformer blocks written with our builder: blocks.0 has self-attention,
 * blocks.1 self- (attn) and cross-attention (attn2). The context has as many tokens as the
 * image, so only structure can tell cross- from self-attention. Layers named in `identity`
 * are written directly as to_out(to_v(h)): the oracle for the transformed graph.
 */
function buildBlocks(options: { weights?: ReadonlyMap<string, Float32Array>; identity?: readonly string[] }) {
  const g = new GraphBuilder({ seed: 3, weights: options.weights });
  const x = g.input('hidden_states', 'float32', ['batch', TOKENS, DIM]);
  const context = g.input('encoder_hidden_states', 'float32', ['batch', CONTEXT_TOKENS, CONTEXT_DIM]);
  const attend = (h: Value, name: string, ctx?: Value): Value => {
    if (!options.identity?.includes(name)) {
      return attention(g, h, { name, dim: DIM, heads: HEADS, context: ctx, contextDim: CONTEXT_DIM });
    }
    const v = g.scope(name, () => linear(g, h, { name: 'to_v', inFeatures: DIM, outFeatures: DIM }));
    return g.scope(name, () => linear(g, v, { name: 'to_out.0', inFeatures: DIM, outFeatures: DIM }));
  };
  let h = x;
  h = g.add(h, attend(layerNorm(g, h, { name: 'blocks.0.norm1', dim: DIM }), 'blocks.0.attn'));
  h = g.add(h, attend(layerNorm(g, h, { name: 'blocks.1.norm1', dim: DIM }), 'blocks.1.attn'));
  h = g.add(h, attend(layerNorm(g, h, { name: 'blocks.1.norm2', dim: DIM }), 'blocks.1.attn2', context));
  g.output(h, 'out');
  return { model: g.toModel(), parameters: g.parameters() };
}

function testInputs(): Record<string, TensorRecord> {
  const values = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 1.5);
  return {
    hidden_states: { dtype: 'float32', shape: [BATCH, TOKENS, DIM], data: values(BATCH * TOKENS * DIM, 1) },
    encoder_hidden_states: {
      dtype: 'float32',
      shape: [BATCH, CONTEXT_TOKENS, CONTEXT_DIM],
      data: values(BATCH * CONTEXT_TOKENS * CONTEXT_DIM, 2),
    },
  };
}

describe('makePerturbedAttentionModel on graphs from our builder', () => {
  const { model, parameters } = buildBlocks({});
  const inputs = testInputs();

  it('finds the attentions under their module names and tells self from cross by structure', () => {
    expect(findAttentionLayers(model).map((l) => [l.path, l.kind])).toEqual([
      ['blocks.0.attn', 'self'],
      ['blocks.1.attn', 'self'],
      ['blocks.1.attn2', 'cross'],
    ]);
  });

  it.each([
    [['blocks.1'], ['blocks.1.attn']],
    [
      ['blocks.0', 'blocks.1'],
      ['blocks.0.attn', 'blocks.1.attn'],
    ],
  ])('%j equals the network written with to_out(to_v(h)) in %j', async (appliedLayers, identity) => {
    const perturbed = makePerturbedAttentionModel(model, { appliedLayers });
    const expected = buildBlocks({ weights: parameters, identity }).model;
    const out = await runModel(perturbed, inputs, 'out');
    expect(maxAbsDiff(out, await runModel(expected, inputs, 'out'))).toBeLessThan(1e-5);
    expect(maxAbsDiff(out, await runModel(model, inputs, 'out'))).toBeGreaterThan(1e-2);
    const softmaxes = perturbed.graph!.node!.filter((n) => n.opType === 'Softmax').map((n) => n.name);
    expect(softmaxes).toContain('blocks.1.attn2.attention_probs');
  });
});

/** CompVis/LDM-style single-head attention with Einsum products ('b i d, b j d -> b i j'). */
function einsumAttention(identity: boolean, weights?: ReadonlyMap<string, Float32Array>) {
  const g = new GraphBuilder({ seed: 5, weights });
  const x = g.input('x', 'float32', ['batch', TOKENS, DIM]);
  const project = (name: string, input: Value) =>
    linear(g, input, { name, inFeatures: DIM, outFeatures: DIM });
  const einsum = (equation: string, a: Value, b: Value, shape: (string | number)[]) =>
    g.node('Einsum', [a, b], [{ dtype: 'float32', shape }], {
      attributes: { equation: { string: equation } },
    })[0] as Value;
  const out = g.scope('attn1', () => {
    const v = project('to_v', x);
    if (identity) return project('to_out.0', v);
    const q = project('to_q', x);
    const k = project('to_k', x);
    const sim = g.mul(einsum('b i d, b j d -> b i j', q, k, ['batch', TOKENS, TOKENS]), 1 / Math.sqrt(DIM));
    const probs = g.softmax(sim, -1);
    return project('to_out.0', einsum('b i j, b j d -> b i d', probs, v, ['batch', TOKENS, DIM]));
  });
  g.output(out, 'out');
  return { model: g.toModel(), parameters: g.parameters() };
}

describe('makePerturbedAttentionModel on Einsum attention', () => {
  it('replaces the probabilities·values Einsum by the values', async () => {
    const { model, parameters } = einsumAttention(false);
    expect(findAttentionLayers(model).map((l) => [l.path, l.kind])).toEqual([['attn1', 'self']]);
    const perturbed: ModelProto = makePerturbedAttentionModel(model, { appliedLayers: ['attn1'] });
    expect(perturbed.graph!.node!.some((n) => n.opType === 'Einsum')).toBe(false);
    const inputs = { x: testInputs().hidden_states! };
    const expected = await runModel(einsumAttention(true, parameters).model, inputs, 'out');
    expect(maxAbsDiff(await runModel(perturbed, inputs, 'out'), expected)).toBeLessThan(1e-5);
    expect(maxAbsDiff(await runModel(model, inputs, 'out'), expected)).toBeGreaterThan(1e-2);
  });
});
