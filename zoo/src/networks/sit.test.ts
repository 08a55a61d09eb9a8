import { InvalidArgumentError, InvalidConfigError } from '@noiserefine/core';
import { encodeModel, type ModelProto } from '@noiserefine/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  buildSiT,
  countParameters,
  SIT_IO,
  type SiTNetworkConfig,
  sitConfigFromJson,
  sitTransformerConfig,
  TINY_SIT_CONFIG,
} from './sit';

const SMALL: SiTNetworkConfig = { ...TINY_SIT_CONFIG, hiddenSize: 16, depth: 2, numHeads: 2 };

async function run(model: ModelProto, labels: bigint[], t: number[]) {
  const session = await ort.InferenceSession.create(encodeModel(model));
  try {
    const b = labels.length;
    // The same latent in every row, so rows differ only by their time and class.
    const input = Float32Array.from({ length: b * 256 }, (_, i) => Math.sin((i % 256) * 0.37));
    const out = await session.run({
      x: new ort.Tensor('float32', input, [b, 4, 8, 8]),
      t: new ort.Tensor('float32', Float32Array.from(t), [b]),
      y: new ort.Tensor('int64', BigInt64Array.from(labels), [b]),
    });
    const output = out[SIT_IO.output] as ort.Tensor;
    return { dims: [...output.dims], data: output.data as Float32Array };
  } finally {
    await session.release();
  }
}

/** Every parameter filled with small deterministic values, so no branch is gated shut. */
function nonZeroWeights(config: SiTNetworkConfig): Map<string, Float32Array> {
  const reference = buildSiT(config);
  const weights = new Map<string, Float32Array>();
  for (const t of reference.graph?.initializer ?? []) {
    const size = (t.dims ?? []).reduce((p: number, d) => p * Number(d), 1);
    weights.set(
      t.name as string,
      Float32Array.from({ length: size }, (_, i) => 0.05 * Math.cos(i * 1.7 + size)),
    );
  }
  return weights;
}

describe('the SiT network', () => {
  it('has SiT’s I/O signature, torch-style parameter names and opset 17', () => {
    const model = buildSiT(TINY_SIT_CONFIG);
    const graph = model.graph!;
    const io = (values: typeof graph.input) =>
      values!.map((v) => ({
        name: v.name,
        elemType: v.type?.tensorType?.elemType,
        dims: v.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue)),
      }));
    expect(io(graph.input)).toEqual([
      { name: 'x', elemType: 1, dims: ['batch', 4, 8, 8] },
      { name: 't', elemType: 1, dims: ['batch'] },
      { name: 'y', elemType: 7, dims: ['batch'] },
    ]);
    expect(io(graph.output)).toEqual([{ name: 'output', elemType: 1, dims: ['batch', 4, 8, 8] }]);
    expect(model.opsetImport?.[0]?.version).toBe(17);

    const shapes = new Map(graph.initializer!.map((t) => [t.name, t.dims!.map(Number)]));
    expect(shapes.get('x_embedder.proj.weight')).toEqual([16, 64]);
    expect(shapes.get('t_embedder.linear_1.weight')).toEqual([64, 64]);
    // The label table has the null class as its last row.
    expect(shapes.get('y_embedder.embedding_table.weight')).toEqual([11, 64]);
    for (const layer of ['to_q', 'to_k', 'to_v', 'to_out.0']) {
      expect(shapes.get(`blocks.3.attn.${layer}.weight`)).toEqual([64, 64]);
    }
    expect(shapes.get('blocks.0.mlp.fc1.weight')).toEqual([64, 128]);
    expect(shapes.get('blocks.0.adaLN_modulation.1.weight')).toEqual([64, 384]);
    expect(shapes.get('final_layer.linear.weight')).toEqual([64, 16]);
    expect(shapes.has('blocks.4.attn.to_q.weight')).toBe(false);
    expect(countParameters(model)).toBe(252_176);
  });

  it('starts at exactly zero (adaLN-Zero, zero output layer) for every class and the null class', async () => {
    const out = await run(buildSiT(SMALL, { seed: 3 }), [0n, 9n, 10n], [0, 0.5, 1]);
    expect(out.dims).toEqual([3, 4, 8, 8]);
    expect(out.data.every((v) => v === 0)).toBe(true);
  });

  it('with trained-like weights, runs on onnxruntime and depends on the input, the time and the class', async () => {
    const model = buildSiT(SMALL, { weights: nonZeroWeights(SMALL) });
    const base = await run(model, [1n, 1n, 1n], [0.2, 0.2, 0.7]);
    expect(base.data.every(Number.isFinite)).toBe(true);
    const sample = (data: Float32Array, i: number) => Array.from(data.subarray(i * 256, (i + 1) * 256));
    expect(sample(base.data, 0)).toEqual(sample(base.data, 1));
    expect(sample(base.data, 2)).not.toEqual(sample(base.data, 0));
    const otherClass = await run(model, [1n, 10n, 1n], [0.2, 0.2, 0.7]);
    expect(sample(otherClass.data, 1)).not.toEqual(sample(base.data, 1));
    expect(sample(otherClass.data, 0)).toEqual(sample(base.data, 0));
  });

  it('rejects inconsistent configs and unknown weights', () => {
    expect(() => buildSiT({ ...SMALL, patchSize: 3 })).toThrow(InvalidArgumentError);
    expect(() => buildSiT({ ...SMALL, numHeads: 3 })).toThrow(/numHeads 3 dividing hiddenSize 16/);
    const weights = nonZeroWeights(SMALL);
    weights.set('blocks.9.attn.to_q.weight', new Float32Array(4));
    expect(() => buildSiT(SMALL, { weights })).toThrow(/blocks\.9\.attn\.to_q\.weight/);
  });

  it('writes transformer/config.json the way SiTPipeline reads it, and reads it back', () => {
    const json = sitTransformerConfig(TINY_SIT_CONFIG, 2.5);
    expect(json).toMatchObject({
      num_classes: 10,
      input_size: 8,
      in_channels: 4,
      cfg_channels: null,
      guidance_scale: 2.5,
    });
    expect(sitConfigFromJson(JSON.parse(JSON.stringify(json)), 'config.json')).toEqual(TINY_SIT_CONFIG);
    expect(() => sitConfigFromJson({ ...json, depth: 'four' }, 'config.json')).toThrow(InvalidConfigError);
  });
});
