import { InvalidArgumentError, ModelSignatureError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { silu } from '../builder/layers/activations';
import { labelEmbedding, timestepEmbedder } from '../builder/layers/embeddings';
import { GraphBuilder } from '../builder/graph-builder';
import { linear } from '../builder/layers/linear';
import { getMetadata } from '../builder/metadata';
import { type ModelProto, onnx, type TensorProto } from '../proto';
import { readFloat32 } from './lora-tensors';
import { addGuidanceEmbedding, guidanceEmbeddingRecord } from './guidance-embedding';
import { makeRefinerGraph, refinerTrainable } from './refiner-graph';
import { findTimestepEmbedding } from './timestep-embedding';
import { perturbed } from './test-support/perturbed-initializers';
import { loadPagFixture, maxAbsDiff, runModel, type TensorRecord } from './test-support/pag-fixtures';

const floats = (data: number[], shape: number[]): TensorRecord => ({ dtype: 'float32', shape, data });

/** A small UNet-like network: the timestep embedding feeds two blocks. */
function unetLike(): ModelProto {
  const g = new GraphBuilder({ name: 'unet_like', seed: 1 });
  const x = g.input('sample', 'float32', ['batch', 8]);
  const t = g.input('timestep', 'float32', ['batch']);
  const temb = timestepEmbedder(g, t, { name: 'time_embedding', dim: 16, frequencyDim: 8 });
  let h = linear(g, x, { name: 'conv_in', inFeatures: 8, outFeatures: 16 });
  h = g.add(h, linear(g, silu(g, temb), { name: 'down.time_emb_proj', inFeatures: 16, outFeatures: 16 }));
  h = g.add(silu(g, h), linear(g, temb, { name: 'mid.time_emb_proj', inFeatures: 16, outFeatures: 16 }));
  g.output(linear(g, h, { name: 'conv_out', inFeatures: 16, outFeatures: 8 }), 'out_sample');
  return g.toModel();
}

/** A SiT-like conditioning vector: t_embedder (256-wide sinusoid) plus a label embedding. */
function sitLike(): ModelProto {
  const g = new GraphBuilder({ name: 'sit_like', seed: 2 });
  const x = g.input('x', 'float32', ['batch', 8]);
  const t = g.input('t', 'float32', ['batch']);
  const y = g.input('y', 'int64', ['batch']);
  const c = g.add(
    timestepEmbedder(g, t, { name: 't_embedder', dim: 12 }),
    labelEmbedding(g, y, { name: 'y_embedder', numClasses: 3, dim: 12 }),
  );
  const h = g.mul(linear(g, x, { name: 'x_embedder', inFeatures: 8, outFeatures: 12 }), silu(g, c));
  g.output(linear(g, h, { name: 'final_layer.linear', inFeatures: 12, outFeatures: 8 }), 'velocity');
  return g.toModel();
}

const initializer = (model: ModelProto, name: string) =>
  readFloat32(
    ((model.graph?.initializer ?? []) as TensorProto[]).find((t) => t.name === name) as TensorProto,
  );

/** The model with `tensor` also a graph output. */
function exposing(model: ModelProto, tensor: string): ModelProto {
  const output = onnx.ValueInfoProto.create({
    name: tensor,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } },
  });
  return onnx.ModelProto.create({
    ...model,
    graph: { ...model.graph, output: [...(model.graph?.output ?? []), output] },
  });
}

/** The model with `tensor`'s readers reading a new input `override` of the given shape instead. */
function overriding(model: ModelProto, tensor: string, shape: number[]): ModelProto {
  const graph = model.graph as NonNullable<ModelProto['graph']>;
  const node = (graph.node ?? []).map((n) =>
    onnx.NodeProto.create({ ...n, input: (n.input ?? []).map((i) => (i === tensor ? 'override' : i)) }),
  );
  const input = onnx.ValueInfoProto.create({
    name: 'override',
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: shape.map((d) => ({ dimValue: d })) },
      },
    },
  });
  return onnx.ModelProto.create({
    ...model,
    graph: { ...graph, node, input: [...(graph.input ?? []), input] },
  });
}

/** diffusers' get_timestep_embedding(w, F, flip_sin_to_cos, downscale_freq_shift=0, scale), in float64. */
function sincos(w: number, dim: number, flipSinToCos: boolean, scale: number): number[] {
  const half = dim / 2;
  const args = Array.from({ length: half }, (_, i) => scale * w * Math.exp((-Math.log(10_000) * i) / half));
  const [sin, cos] = [args.map(Math.sin), args.map(Math.cos)];
  return flipSinToCos ? [...cos, ...sin] : [...sin, ...cos];
}

/**
 * The output computed without the transform: the original model's timestep embedding E (read
 * as an extra output) is replaced by E + sincos(w)·W + b, computed here, and fed back in.
 */
async function referenceOutput(
  original: ModelProto,
  conditioned: ModelProto,
  inputs: Record<string, TensorRecord>,
  outputName: string,
): Promise<Float32Array> {
  const record = guidanceEmbeddingRecord(conditioned);
  if (!record) throw new Error('no guidance embedding recorded');
  const { timestepEmbedding: tensor, frequencyDim: f, embeddingDim: d } = record;
  const { [record.input]: scaleInput, ...plain } = inputs;
  const scales = scaleInput?.data ?? [];
  const embedding = await runModel(exposing(original, tensor), plain, tensor);
  const rows = embedding.length / d;
  const weight = initializer(conditioned, record.weight);
  const bias = initializer(conditioned, record.bias);
  const guided = new Float32Array(scales.length * d);
  for (let b = 0; b < scales.length; b++) {
    const features = sincos(scales[b] as number, f, record.flipSinToCos, record.scale);
    for (let j = 0; j < d; j++) {
      let sum = (bias[j] as number) + (embedding[(rows === 1 ? 0 : b) * d + j] as number);
      for (let i = 0; i < f; i++) sum += (features[i] as number) * (weight[i * d + j] as number);
      guided[b * d + j] = sum;
    }
  }
  return runModel(
    overriding(original, tensor, [scales.length, d]),
    { ...plain, override: floats(Array.from(guided), [scales.length, d]) },
    outputName,
  );
}

const withScales = (inputs: Record<string, TensorRecord>, scales: number[]) => ({
  ...inputs,
  guidance_scale: floats(scales, [scales.length]),
});

describe('addGuidanceEmbedding on builder graphs', () => {
  const inputs = {
    sample: floats(
      Array.from({ length: 24 }, (_, i) => Math.sin(i * 0.7)),
      [3, 8],
    ),
    timestep: floats([999, 500, 20], [3]),
  };

  it('finds time_embedding.linear_2 with its widths and adds a [batch] float input', () => {
    const model = unetLike();
    expect(findTimestepEmbedding(model.graph ?? {})).toEqual({
      tensor: 'time_embedding.linear_2.Add_output_0',
      layer: 'time_embedding.linear_2',
      embeddingDim: 16,
      frequencyDim: 8,
    });
    const { model: conditioned, record, trainable } = addGuidanceEmbedding(model);
    expect(record).toMatchObject({ input: 'guidance_scale', frequencyDim: 8, embeddingDim: 16, scale: 1 });
    expect(trainable).toEqual(['guidance_embedding.linear.weight', 'guidance_embedding.linear.bias']);
    expect(refinerTrainable(conditioned)).toEqual(trainable);
    const input = conditioned.graph?.input?.find((i) => i.name === 'guidance_scale');
    expect(input?.type?.tensorType?.elemType).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(input?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam)).toEqual(['batch']);
    expect(initializer(conditioned, trainable[0] as string).every((v) => v === 0)).toBe(true);
    // The original is untouched.
    expect(model.graph?.input?.map((i) => i.name)).toEqual(['sample', 'timestep']);
  });

  it('with a zero projection computes exactly what the original does, for any guidance scale', async () => {
    const model = unetLike();
    const { model: conditioned } = addGuidanceEmbedding(model);
    const original = await runModel(model, inputs, 'out_sample');
    for (const scales of [
      [1, 1, 1],
      [1.5, 4, 9.5],
    ]) {
      expect(await runModel(conditioned, withScales(inputs, scales), 'out_sample')).toEqual(original);
    }
  });

  it('with a trained projection matches emb + proj(sincos(w)) computed independently', async () => {
    const model = unetLike();
    const { model: zero, trainable } = addGuidanceEmbedding(model);
    const conditioned = perturbed(zero, trainable, 5, 0.2);
    const scales = [1.5, 4, 9.5];
    const out = await runModel(conditioned, withScales(inputs, scales), 'out_sample');
    const reference = await referenceOutput(model, conditioned, withScales(inputs, scales), 'out_sample');
    expect(maxAbsDiff(out, reference)).toBeLessThan(1e-5);
    const other = await runModel(conditioned, withScales(inputs, [2, 5, 7]), 'out_sample');
    expect(maxAbsDiff(out, other)).toBeGreaterThan(1e-3);
  });

  it('uses the options: sinusoid width, scale and [sin, cos] order', async () => {
    const model = unetLike();
    const {
      model: zero,
      record,
      trainable,
    } = addGuidanceEmbedding(model, {
      frequencyDim: 32,
      scale: 1000,
      flipSinToCos: false,
      name: 'w_embedding',
      inputName: 'w',
    });
    expect(record).toMatchObject({ frequencyDim: 32, scale: 1000, flipSinToCos: false, input: 'w' });
    expect(trainable).toEqual(['w_embedding.linear.weight', 'w_embedding.linear.bias']);
    const conditioned = perturbed(zero, trainable, 6, 0.2);
    const scales = [0.002, 0.004, 0.008];
    const out = await runModel(conditioned, { ...inputs, w: floats(scales, [3]) }, 'out_sample');
    const reference = await referenceOutput(
      model,
      conditioned,
      { ...inputs, w: floats(scales, [3]) },
      'out_sample',
    );
    expect(maxAbsDiff(out, reference)).toBeLessThan(1e-5);
  });

  it('finds a SiT t_embedder with its 256-wide sinusoid; the label path is untouched', async () => {
    const model = sitLike();
    const { model: zero, record, trainable } = addGuidanceEmbedding(model);
    expect(record).toMatchObject({ layer: 't_embedder.linear_2', frequencyDim: 256, embeddingDim: 12 });
    const sitInputs = {
      x: floats(
        Array.from({ length: 16 }, (_, i) => Math.cos(i)),
        [2, 8],
      ),
      t: floats([0.1, 0.9], [2]),
      y: { dtype: 'int64' as const, shape: [2], data: [0, 2] },
    };
    expect(await runModel(zero, withScales(sitInputs, [3, 6]), 'velocity')).toEqual(
      await runModel(model, sitInputs, 'velocity'),
    );
    const conditioned = perturbed(zero, trainable, 7, 0.2);
    const out = await runModel(conditioned, withScales(sitInputs, [3, 6]), 'velocity');
    const reference = await referenceOutput(model, conditioned, withScales(sitInputs, [3, 6]), 'velocity');
    expect(maxAbsDiff(out, reference)).toBeLessThan(1e-5);
  });
});

describe.each([
  ['pag-unet', 'stable-diffusion', 'time_embedding.2', 16],
  ['pag-dit', 'sit', 't_embedder.2', 16],
] as const)('addGuidanceEmbedding on the torch-exported %s', (name, family, layer, frequencyDim) => {
  const { bytes, record: fixture } = loadPagFixture(name);

  it('conditions its LoRA refiner: exact at init, emb + proj(sincos(w)) once trained', async () => {
    const refiner = makeRefinerGraph(bytes, { kind: 'lora', rank: 2, family, baseModel: `tiny-${name}` });
    // As after some training: LoRA and the output projection are live.
    const live = perturbed(refiner.model, refiner.trainable, 11, 0.2);
    const { model: zero, record, trainable } = addGuidanceEmbedding(live);
    expect(record.layer).toBe(layer);
    expect(record.frequencyDim).toBe(frequencyDim);
    expect(refinerTrainable(zero)).toEqual([...refiner.trainable, ...trainable]);
    expect(getMetadata(zero)).toMatchObject({ kind: 'lora', family });

    const scales = [2, 7.5];
    const unconditioned = await runModel(live, fixture.inputs, fixture.outputName);
    expect(unconditioned.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(await runModel(zero, withScales(fixture.inputs, scales), fixture.outputName)).toEqual(
      unconditioned,
    );
    const conditioned = perturbed(zero, trainable, 12, 0.2);
    const out = await runModel(conditioned, withScales(fixture.inputs, scales), fixture.outputName);
    const reference = await referenceOutput(
      live,
      conditioned,
      withScales(fixture.inputs, scales),
      fixture.outputName,
    );
    expect(maxAbsDiff(out, reference)).toBeLessThan(1e-4);
    expect(maxAbsDiff(out, unconditioned)).toBeGreaterThan(1e-3);
  });

  it('conditions a standalone refiner on its t_embedder', () => {
    const refiner = makeRefinerGraph(bytes, {
      kind: 'standalone',
      latentShape: [4, 8, 8],
      hiddenSize: 32,
      depth: 1,
      family,
      baseModel: `tiny-${name}`,
    });
    const { record } = addGuidanceEmbedding(refiner.model);
    expect(record).toMatchObject({ layer: 't_embedder.linear_2', embeddingDim: 32, frequencyDim: 256 });
  });
});

describe('addGuidanceEmbedding errors', () => {
  it('names the embedding-like modules when no layer matches', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 4]);
    const t = g.input('t', 'float32', ['batch']);
    const h = timestepEmbedder(g, t, { name: 'cond_embed', dim: 4, frequencyDim: 4 });
    g.output(g.add(linear(g, x, { name: 'proj', inFeatures: 4, outFeatures: 4 }), h), 'y');
    const model = g.toModel();
    expect(() => addGuidanceEmbedding(model)).toThrow(ModelSignatureError);
    expect(() => addGuidanceEmbedding(model)).toThrow(
      /found none; embedding-like modules .*"cond_embed.linear_2"/,
    );
    // Given a pattern or the tensor itself, it works.
    expect(addGuidanceEmbedding(model, { patterns: ['cond_embed.linear_2$'] }).record.embeddingDim).toBe(4);
    expect(
      addGuidanceEmbedding(model, { timestepEmbedding: 'cond_embed.linear_2.Add_output_0' }).record.layer,
    ).toBe('cond_embed.linear_2');
  });

  it('lists the candidates when several layers match', () => {
    const g = new GraphBuilder();
    const t = g.input('t', 'float32', ['batch']);
    const a = timestepEmbedder(g, t, { name: 'blocks.0.t_embedder', dim: 4, frequencyDim: 4 });
    const b = timestepEmbedder(g, t, { name: 'blocks.1.t_embedder', dim: 4, frequencyDim: 4 });
    g.output(g.add(a, b), 'y');
    expect(() => addGuidanceEmbedding(g.toModel())).toThrow(
      /found "blocks.0.t_embedder.linear_2" → tensor .*; "blocks.1.t_embedder.linear_2" → tensor/,
    );
  });

  it('refuses a model that already takes guidance_scale, and bad options', () => {
    const { model } = addGuidanceEmbedding(unetLike());
    expect(() => addGuidanceEmbedding(model)).toThrow(InvalidArgumentError);
    expect(() => addGuidanceEmbedding(model)).toThrow(/already guidance-conditioned/);
    expect(() => addGuidanceEmbedding(unetLike(), { frequencyDim: 7 })).toThrow(/even integer ≥ 2, got 7/);
    expect(() => addGuidanceEmbedding(unetLike(), { timestepEmbedding: 'sample' })).toThrow(
      /no node producing it/,
    );
  });
});
