import {
  encodeModel,
  findAttentionLayers,
  makePerturbedAttentionModel,
  type ModelProto,
} from '@noiserefine/onnx';
import { OnnxGraph, selectEngine } from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEXT_LENGTH, TINY_SD21, TINY_SDXL } from './sd-families';
import { buildSDUNet, type SDUNetConfig, unetConfigJson } from './sd-unet';

/** Deterministic pseudo-random values in [−1, 1). */
function values(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

/** The network with every parameter random (the zero-initialised output layers would hide bugs). */
function randomized(config: SDUNetConfig): ModelProto {
  const shapes = buildSDUNet(config).graph?.initializer ?? [];
  const weights = new Map(
    shapes.map((t, i) => {
      const size = (t.dims ?? []).reduce((p: number, d) => p * Number(d), 1);
      return [t.name as string, values(size, i + 1).map((v) => v * 0.3)];
    }),
  );
  return buildSDUNet(config, { weights });
}

function feeds(config: SDUNetConfig, batch: number) {
  const s = config.sampleSize;
  const out: Record<string, ort.Tensor> = {
    sample: new ort.Tensor('float32', values(batch * 4 * s * s, 7), [batch, 4, s, s]),
    encoder_hidden_states: new ort.Tensor(
      'float32',
      values(batch * TEXT_LENGTH * config.crossAttentionDim, 8),
      [batch, TEXT_LENGTH, config.crossAttentionDim],
    ),
  };
  out.timestep =
    config.timestepInput.dtype === 'int64'
      ? new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: batch }, (_, i) => BigInt(101 + 400 * i)),
          [batch],
        )
      : new ort.Tensor('float32', Float32Array.of(801), []);
  if (config.addition) {
    out.text_embeds = new ort.Tensor('float32', values(batch * config.addition.textEmbedDim, 9), [
      batch,
      config.addition.textEmbedDim,
    ]);
    out.time_ids = new ort.Tensor(
      'float32',
      Float32Array.from({ length: batch * 6 }, (_, i) => [16, 16, 0, 0, 16, 16][i % 6] as number),
      [batch, 6],
    );
  }
  return out;
}

describe('buildSDUNet', () => {
  beforeAll(async () => {
    await selectEngine({ engine: 'cpu' });
  });

  it("has SD 2.1's UNet interface: sample, int64 timestep [B], encoder_hidden_states → out_sample", async () => {
    const session = await ort.InferenceSession.create(encodeModel(buildSDUNet(TINY_SD21.unet)));
    expect(session.inputNames).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect(session.outputNames).toEqual(['out_sample']);
    const meta = Object.fromEntries(session.inputMetadata.map((m) => [m.name, m]));
    expect(meta.timestep).toMatchObject({ isTensor: true, type: 'int64', shape: ['batch'] });
    const out = await session.run(feeds(TINY_SD21.unet, 2));
    expect(out.out_sample?.dims).toEqual([2, 4, 8, 8]);
    // The output layer starts at zero: an untrained UNet predicts exactly zero.
    expect(Array.from(out.out_sample?.data as Float32Array).every((v) => v === 0)).toBe(true);
  });

  it("has SDXL's interface: a float32 scalar timestep, text_embeds [B, P] and time_ids [B, 6]", async () => {
    const session = await ort.InferenceSession.create(encodeModel(randomized(TINY_SDXL.unet)));
    expect(session.inputNames).toEqual([
      'sample',
      'timestep',
      'text_embeds',
      'time_ids',
      'encoder_hidden_states',
    ]);
    const meta = Object.fromEntries(session.inputMetadata.map((m) => [m.name, m]));
    expect(meta.timestep).toMatchObject({ type: 'float32', shape: [] });
    expect(meta.text_embeds).toMatchObject({ type: 'float32', shape: ['batch', 48] });
    expect(meta.time_ids).toMatchObject({ type: 'float32', shape: ['batch', 6] });
    const base = feeds(TINY_SDXL.unet, 2);
    const out = (await session.run(base)).out_sample as ort.Tensor;
    expect(out.dims).toEqual([2, 4, 8, 8]);
    // The added conditioning reaches the output.
    const other = { ...base, text_embeds: new ort.Tensor('float32', values(2 * 48, 99), [2, 48]) };
    const changed = (await session.run(other)).out_sample as ort.Tensor;
    expect(changed.data).not.toEqual(out.data);
  });

  it('computes the same on tfjs (the training engine) as on onnxruntime', async () => {
    for (const config of [TINY_SD21.unet, TINY_SDXL.unet]) {
      const proto = randomized(config);
      const ortFeeds = feeds(config, 2);
      const expected = (await (await ort.InferenceSession.create(encodeModel(proto))).run(ortFeeds))
        .out_sample as ort.Tensor;
      const graph = new OnnxGraph(proto);
      const tfFeeds = Object.fromEntries(
        Object.entries(ortFeeds).map(([name, t]) => [
          name,
          t.type === 'int64'
            ? tf.tensor(Int32Array.from(t.data as BigInt64Array, Number), t.dims as number[], 'int32')
            : tf.tensor(t.data as Float32Array, t.dims as number[], 'float32'),
        ]),
      );
      const actual = graph.execute(tfFeeds, ['out_sample']).out_sample as tf.Tensor;
      const got = await actual.data();
      const want = expected.data as Float32Array;
      const scale = Math.max(...Array.from(want, Math.abs));
      expect(scale).toBeGreaterThan(0.1);
      const worst = Math.max(...Array.from(want, (v, i) => Math.abs((got[i] as number) - v)));
      expect(worst).toBeLessThan(1e-4 * Math.max(1, scale));
      graph.dispose();
    }
  });

  it("names attentions as diffusers' UNet does, so PAG's default 'mid' layer finds a self-attention", () => {
    const layers = findAttentionLayers(buildSDUNet(TINY_SD21.unet));
    const byPath = Object.fromEntries(layers.map((l) => [l.path, l.kind]));
    expect(byPath).toEqual({
      'down_blocks.1.attentions.0.transformer_blocks.0.attn1': 'self',
      'down_blocks.1.attentions.0.transformer_blocks.0.attn2': 'cross',
      'mid_block.attentions.0.transformer_blocks.0.attn1': 'self',
      'mid_block.attentions.0.transformer_blocks.0.attn2': 'cross',
    });
    const names = (buildSDUNet(TINY_SD21.unet).graph?.initializer ?? []).map((t) => t.name);
    expect(names).toContain('mid_block.attentions.0.transformer_blocks.0.attn1.to_q.weight');
    expect(names).toContain('down_blocks.0.downsamplers.0.conv.weight');
    expect(names).toContain('up_blocks.0.upsamplers.0.conv.weight');
    expect(names).toContain('up_blocks.1.resnets.1.time_emb_proj.weight');
  });

  it("gives PAG's perturbed UNet with the default layer choice ('mid'), which changes the output", async () => {
    const proto = randomized(TINY_SD21.unet);
    const perturbed = makePerturbedAttentionModel(proto);
    const input = feeds(TINY_SD21.unet, 1);
    const run = async (model: ModelProto) =>
      ((await (await ort.InferenceSession.create(encodeModel(model))).run(input)).out_sample as ort.Tensor)
        .data;
    expect(await run(perturbed)).not.toEqual(await run(proto));
  });

  it("writes diffusers' UNet2DConditionModel config keys", () => {
    expect(unetConfigJson(TINY_SDXL.unet)).toMatchObject({
      _class_name: 'UNet2DConditionModel',
      sample_size: 8,
      in_channels: 4,
      cross_attention_dim: 80,
      addition_embed_type: 'text_time',
      addition_time_embed_dim: 8,
      projection_class_embeddings_input_dim: 48 + 6 * 8,
    });
    expect(unetConfigJson(TINY_SD21.unet).addition_embed_type).toBeNull();
  });

  it('rejects a config whose levels do not match its block types', () => {
    expect(() => buildSDUNet({ ...TINY_SD21.unet, downBlockTypes: ['DownBlock2D'] })).toThrow(
      /one down and one up block per level/,
    );
  });
});
