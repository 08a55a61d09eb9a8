import { Generator, InvalidArgumentError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { getMetadata } from '../builder/metadata';
import { GraphBuilder } from '../builder/graph-builder';
import { attention } from '../builder/layers/attention';
import { mlp } from '../builder/layers/mlp';
import { decodeModel, type ModelProto, onnx, type TensorProto } from '../proto';
import { injectLora, LORA_METADATA_KEY, loraLayers, mergeLora } from './lora';
import { findWeightedLayers } from './lora-layers';
import { float32Tensor, readFloat32 } from './lora-tensors';
import { loadPagFixture, maxAbsDiff, runModel } from './test-support/pag-fixtures';

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

/** The model with every LoRA B set to seeded values, as after some training. */
function withTrainedB(model: ModelProto, seed: number, scale = 0.3): ModelProto {
  const bs = new Set(loraLayers(model).map((l) => l.b));
  const generator = new Generator(seed);
  const initializer = ((model.graph?.initializer ?? []) as TensorProto[]).map((t) => {
    if (!bs.has(t.name ?? '')) return t;
    const size = readFloat32(t).length;
    const values = generator.randnValues(size).map((v) => v * scale);
    return float32Tensor(t.name ?? '', values, (t.dims ?? []).map(Number));
  });
  return onnx.ModelProto.create({ ...model, graph: { ...model.graph, initializer } });
}

const initializerNames = (model: ModelProto) => (model.graph?.initializer ?? []).map((t) => t.name ?? '');

describe.each(['pag-unet', 'pag-dit'] as const)('LoRA on the torch export %s', (name) => {
  const { bytes, record } = loadPagFixture(name);

  it('computes exactly what the base model computes while B is zero', async () => {
    const base = await runModel(bytes, record.inputs, record.outputName);
    const lora = injectLora(bytes, { rank: 4, targets: ['.*'] });
    expect(loraLayers(lora).length).toBe(findWeightedLayers(decodeModel(bytes).graph ?? {}).length);
    const out = await runModel(lora, record.inputs, record.outputName);
    expect(maxAbsDiff(out, base)).toBe(0);
  });

  it('merges trained B·A into the weights: the merged model equals the unmerged one', async () => {
    const base = await runModel(bytes, record.inputs, record.outputName);
    const trained = withTrainedB(injectLora(bytes, { rank: 2, alpha: 4, targets: ['.*'], seed: 3 }), 5);
    const unmerged = await runModel(trained, record.inputs, record.outputName);
    const merged = mergeLora(trained);
    const out = await runModel(merged, record.inputs, record.outputName);
    // The adapters move the output by order 1; merging changes only float32 rounding.
    expect(maxAbsDiff(unmerged, base)).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(out, unmerged)).toBeLessThan(2e-5);
    expect(merged.graph?.node?.length).toBe(decodeModel(bytes).graph?.node?.length);
    expect(initializerNames(merged).some((n) => n.includes('lora'))).toBe(false);
    expect(getMetadata(merged)[LORA_METADATA_KEY]).toBeUndefined();
  });
});

describe('LoRA layer selection', () => {
  const { bytes } = loadPagFixture('pag-unet');

  it('names layers by module path and sorts them into attention, feed-forward and conv', () => {
    const layers = findWeightedLayers(decodeModel(bytes).graph ?? {});
    const kinds = Object.fromEntries(layers.map((l) => [l.path, l.kind]));
    expect(kinds.conv_in).toBe('conv');
    expect(kinds['mid_block.attentions.0.transformer_blocks.0.attn1.to_q']).toBe('attention');
    expect(kinds['mid_block.attentions.0.transformer_blocks.0.attn2.to_out.0']).toBe('attention');
    expect(kinds['mid_block.attentions.0.transformer_blocks.0.ff.net.0']).toBe('feedforward');
    expect(kinds['mid_block.resnets.0.time_emb_proj']).toBe('feedforward');
  });

  it('adapts only the selected kinds and patterns, with A seeded and B zero', () => {
    const lora = injectLora(bytes, { rank: 3, targets: ['mid_block'], include: ['attention'] });
    const records = loraLayers(lora);
    expect(records.map((r) => r.path)).toHaveLength(8);
    expect(records.every((r) => r.kind === 'attention' && r.path.startsWith('mid_block.'))).toBe(true);
    const byName = new Map(((lora.graph?.initializer ?? []) as TensorProto[]).map((t) => [t.name, t]));
    const first = records[0] as (typeof records)[number];
    const a = readFloat32(byName.get(first.a) as TensorProto);
    const b = readFloat32(byName.get(first.b) as TensorProto);
    expect(a.some((v) => v !== 0)).toBe(true);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(8));
    expect(b.every((v) => v === 0)).toBe(true);
    expect(first.a).toBe('mid_block.attentions.0.transformer_blocks.0.attn1.to_q.lora_A');
  });

  it('adds LoRA to convolutions as a reshaped B·A', async () => {
    const { record } = loadPagFixture('pag-unet');
    const lora = withTrainedB(injectLora(bytes, { rank: 2, targets: ['conv'], include: ['conv'] }), 9);
    const records = loraLayers(lora);
    expect(records.every((r) => r.layout === 'conv')).toBe(true);
    const unmerged = await runModel(lora, record.inputs, record.outputName);
    const merged = await runModel(mergeLora(lora), record.inputs, record.outputName);
    expect(maxAbsDiff(merged, unmerged)).toBeLessThan(2e-5);
  });

  it('throws typed errors naming the candidates when a target matches nothing', () => {
    const error = errorOf(() => injectLora(bytes, { rank: 2, targets: ['mid_block', 'no_such_layer'] }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/target "no_such_layer" matches no attention\/feedforward\/conv layer/);
    expect(error.message).toMatch(/"conv_in" \(conv\)/);
    const kindError = errorOf(() =>
      injectLora(bytes, { rank: 2, targets: ['conv_in'], include: ['attention'] }),
    );
    expect(kindError.message).toMatch(/it matches "conv_in" \(conv\), whose kind is not included/);
    expect(() => injectLora(bytes, { rank: 0, targets: ['mid'] })).toThrow(/rank to be a positive integer/);
    expect(() => injectLora(bytes, { rank: 2, targets: [] })).toThrow(InvalidArgumentError);
    const once = injectLora(bytes, { rank: 2, targets: ['conv_in'] });
    expect(() => injectLora(once, { rank: 2, targets: ['conv_in'] })).toThrow(/already has LoRA/);
    expect(() => mergeLora(bytes)).toThrow(/expected a model with LoRA layers/);
  });
});

describe('LoRA on a builder graph', () => {
  function block(): ModelProto {
    const g = new GraphBuilder({ seed: 1 });
    const x = g.input('x', 'float32', ['batch', 6, 16]);
    const h = attention(g, x, { name: 'blocks.0.attn', dim: 16, heads: 2 });
    g.output(mlp(g, h, { name: 'blocks.0.mlp', inFeatures: 16, hiddenFeatures: 32 }), 'y');
    return g.toModel();
  }

  it('uses the parameter names for paths and keeps x·W layouts', async () => {
    const model = block();
    const lora = withTrainedB(injectLora(model, { rank: 2, targets: ['blocks.0'] }), 2);
    const records = loraLayers(lora);
    expect(records.map((r) => `${r.path}:${r.kind}:${r.layout}`)).toEqual([
      'blocks.0.attn.to_q:attention:in-out',
      'blocks.0.attn.to_k:attention:in-out',
      'blocks.0.attn.to_v:attention:in-out',
      'blocks.0.attn.to_out.0:attention:in-out',
      'blocks.0.mlp.fc1:feedforward:in-out',
      'blocks.0.mlp.fc2:feedforward:in-out',
    ]);
    const x = {
      dtype: 'float32' as const,
      shape: [2, 6, 16],
      data: Array.from(new Generator(4).randnValues(192)),
    };
    const unmerged = await runModel(lora, { x }, 'y');
    const merged = await runModel(mergeLora(lora), { x }, 'y');
    const base = await runModel(model, { x }, 'y');
    expect(maxAbsDiff(unmerged, base)).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(merged, unmerged)).toBeLessThan(1e-5);
  });
});
