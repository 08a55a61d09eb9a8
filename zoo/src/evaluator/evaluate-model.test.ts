import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type AnyPipeline,
  DiffusionPipeline,
  type HostTensor,
  isHostTensor,
  type RgbImage,
  SiTPipeline,
  type Tensor,
  tensor,
} from '@noiserefine/core';
import { type MockModelSpec, mockBackend } from '@noiserefine/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAutoencoder } from '../autoencoder/onnx-export';
import { parseCaption } from '../captions';
import { generateDataset } from '../dataset';
import {
  balancedLabels,
  classPrompt,
  evaluateModel,
  pipelineSampler,
  type SampleBatch,
} from './evaluate-model';
import { Evaluator } from './evaluator';

const autoencoder = await readAutoencoder(resolve(import.meta.dirname, '../../models/shared/patch-vae-sd21'));
const scaling = autoencoder.geometry.scalingFactor;
let evaluator: Evaluator;
beforeAll(async () => {
  evaluator = await Evaluator.load({ backend: 'onnxruntime-node' });
});

/** Held-out real images, 40 per class; image i has label i mod 10. */
const pool = generateDataset({ seed: 0, start: 400_000, count: 400 });
const per = 3 * 16 * 16;

function toRgb(image: Float32Array): RgbImage {
  const data = new Uint8Array(per);
  for (let p = 0; p < 256; p++) {
    for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.round(((image[c * 256 + p] as number) + 1) * 127.5);
  }
  return { width: 16, height: 16, data };
}

/** A stand-in model: returns pool images of the requested classes (or of the next class). */
function datasetSampler(offset = 0, seen: SampleBatch[] = []) {
  return async (batch: SampleBatch) => {
    seen.push(batch);
    return batch.labels.map((label, i) => {
      const index = (10 * ((batch.start + i) % 40) + ((label + offset) % 10)) as number;
      return toRgb(pool.images.subarray(index * per, (index + 1) * per));
    });
  };
}

describe('evaluateModel with images from the dataset', () => {
  it('scores real images of the requested classes as accurate and close to the reference', async () => {
    const seen: SampleBatch[] = [];
    const result = await evaluateModel({
      evaluator,
      sampler: datasetSampler(0, seen),
      samples: 200,
      batchSize: 64,
      seed: 7,
    });
    expect(result.count).toBe(200);
    expect(result.accuracy).toBeGreaterThan(0.97);
    expect(result.isScore).toBeGreaterThan(8);
    expect(result.fd).toBeLessThan(0.1);
    expect(result.labels).toEqual(balancedLabels(200));
    // Batches of 64, 64, 64 and 8, seeds 7, 8, 9, 10, prompts naming each sample's class.
    expect(seen.map((b) => [b.index, b.start, b.labels.length, b.seed])).toEqual([
      [0, 0, 64, 7],
      [1, 64, 64, 8],
      [2, 128, 64, 9],
      [3, 192, 8, 10],
    ]);
    for (const b of seen) {
      expect(b.prompts.map((p) => parseCaption(p).label)).toEqual(b.labels);
    }
  });

  it('scores images of the wrong class as inaccurate, with the same feature distribution', async () => {
    const right = await evaluateModel({ evaluator, sampler: datasetSampler(0), samples: 200 });
    const wrong = await evaluateModel({ evaluator, sampler: datasetSampler(1), samples: 200 });
    expect(wrong.accuracy).toBeLessThan(0.05);
    // The same images under other labels: FD and IS do not look at the labels.
    expect(wrong.fd).toBeCloseTo(right.fd, 1);
    expect(wrong.perClassAccuracy.every((a) => a < 0.2)).toBe(true);
  });

  it('keeps the images when asked, and rejects a sampler that returns the wrong number or size of images', async () => {
    const kept = await evaluateModel({ evaluator, sampler: datasetSampler(), samples: 20, keepImages: true });
    expect(kept.images?.length).toBe(20 * per);
    const short = async (b: SampleBatch) => (await datasetSampler()(b)).slice(1);
    await expect(evaluateModel({ evaluator, sampler: short, samples: 20 })).rejects.toThrow(
      /expected 20 images for batch 0, got 19/,
    );
    const large = async (b: SampleBatch) =>
      b.labels.map(() => ({ width: 32, height: 32, data: new Uint8Array(3 * 1024) }));
    await expect(evaluateModel({ evaluator, sampler: large, samples: 20 })).rejects.toThrow(
      /16×16 images .* got 32×32/,
    );
    await expect(evaluateModel({ evaluator, sampler: datasetSampler(), samples: 1 })).rejects.toThrow(
      /at least 2 samples/,
    );
  });
});

describe('classPrompt', () => {
  it('names exactly the requested class, with varied wording', () => {
    const prompts = Array.from({ length: 40 }, (_, i) => classPrompt(i % 10, i, 1));
    expect(prompts.map((p) => parseCaption(p).label)).toEqual(balancedLabels(40));
    expect(new Set(prompts).size).toBe(40);
  });
});

// A SiT folder whose transformer (in TypeScript) flows every sample straight to the scaled
// latent of one real image of its class: v = (x1 − x)/(1 − t) lands on x1 at t = 1.
const f32 = (name: string, shape: (string | number)[]) => ({ name, dtype: 'float32' as const, shape });
const exemplarLatents = autoencoder.encode(pool.images.subarray(0, 10 * per)).map((z) => z * scaling);
const latentSize = 4 * 8 * 8;
const nullTarget = new Float32Array(latentSize);

const flowTransformer: MockModelSpec = {
  inputs: [f32('x', ['B', 4, 8, 8]), f32('t', ['B']), { name: 'y', dtype: 'int64', shape: ['B'] }],
  outputs: [f32('output', ['B', 4, 8, 8])],
  async run(feeds) {
    const x = feeds.x as Tensor;
    const xs = await x.data();
    const tFeed = feeds.t as Tensor | HostTensor;
    const t = isHostTensor(tFeed) ? Array.from(tFeed.data as Float32Array) : await tFeed.data();
    const y = Array.from((feeds.y as HostTensor).data as BigInt64Array, Number);
    const out = new Float32Array(xs.length);
    y.forEach((label, b) => {
      const target =
        label < 10 ? exemplarLatents.subarray(label * latentSize, (label + 1) * latentSize) : nullTarget;
      const remaining = 1 - (t[b] as number);
      for (let i = 0; i < latentSize; i++) {
        out[b * latentSize + i] = ((target[i] as number) - (xs[b * latentSize + i] as number)) / remaining;
      }
    });
    return { output: tensor(out, x.shape) };
  },
};

const patchDecoder: MockModelSpec = {
  inputs: [f32('latent_sample', ['B', 4, 8, 8])],
  outputs: [f32('sample', ['B', 3, 16, 16])],
  async run(feeds) {
    const z = feeds.latent_sample as Tensor;
    const batch = z.shape[0] as number;
    return { sample: tensor(autoencoder.decode(await z.data()), [batch, 3, 16, 16]) };
  },
};

async function sitFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'zoo-eval-sit-'));
  const files: Record<string, string> = {
    'model_index.json': JSON.stringify({ _class_name: 'SiTPipeline' }),
    'transformer/config.json': JSON.stringify({
      num_classes: 10,
      input_size: 8,
      in_channels: 4,
      guidance_scale: 2.5,
    }),
    'transformer/model.onnx': 'mock',
    'scheduler/scheduler_config.json': JSON.stringify({ _class_name: 'SiTFlowScheduler' }),
    'vae_decoder/config.json': JSON.stringify({ scaling_factor: scaling }),
    'vae_decoder/model.onnx': 'mock',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

describe('evaluateModel on a SiT pipeline', () => {
  it('conditions on the balanced labels, passes the guidance scale and step count, and scores the decoded images', async () => {
    const backend = mockBackend({
      'transformer/model.onnx': flowTransformer,
      'vae_decoder/model.onnx': patchDecoder,
    });
    const pipeline = await DiffusionPipeline.fromPretrained(await sitFolder(), { backend });
    expect(pipeline).toBeInstanceOf(SiTPipeline);
    const unguided = await evaluateModel({
      evaluator,
      pipeline,
      samples: 30,
      batchSize: 10,
      guidanceScale: 1,
      numInferenceSteps: 4,
    });
    expect(unguided.accuracy).toBe(1);
    const calls = backend.calls.filter((c) => c.model === 'transformer/model.onnx');
    // 3 batches × 4 steps, one pass each (w = 1 is unguided), labels 0…9 in every batch.
    expect(calls).toHaveLength(12);
    const firstLabels = (calls[0]?.feeds.y as HostTensor | undefined)?.data as BigInt64Array | undefined;
    expect(Array.from(firstLabels ?? [], Number)).toEqual(balancedLabels(10));
    // Ten distinct images for 30 samples: a collapsed distribution, far from the reference.
    expect(unguided.fd).toBeGreaterThan(0.02);

    backend.calls.length = 0;
    await evaluateModel({
      evaluator,
      pipeline,
      samples: 10,
      batchSize: 10,
      guidanceScale: 3,
      numInferenceSteps: 2,
    });
    const guided = backend.calls.filter((c) => c.model === 'transformer/model.onnx');
    expect(guided).toHaveLength(2);
    expect((guided[0]?.feeds.x as Tensor | undefined)?.shape[0]).toBe(20);
  });

  it('passes per-batch options (e.g. initial latents) and calls text families with prompts', async () => {
    const backend = mockBackend({
      'transformer/model.onnx': flowTransformer,
      'vae_decoder/model.onnx': patchDecoder,
    });
    const pipeline = (await DiffusionPipeline.fromPretrained(await sitFolder(), { backend })) as SiTPipeline;
    const seen: number[] = [];
    const sampler = pipelineSampler(pipeline, {
      numInferenceSteps: 1,
      guidanceScale: 1,
      batchOptions: (batch) => {
        seen.push(batch.seed);
        return {
          latents: tensor(new Float32Array(batch.labels.length * latentSize), [batch.labels.length, 4, 8, 8]),
        };
      },
    });
    const images = await sampler({ index: 0, start: 0, labels: [3, 4], prompts: ['', ''], seed: 11 });
    expect(images).toHaveLength(2);
    expect(seen).toEqual([11]);
    // One step from zero latents at t = 0 lands exactly on the exemplar.
    const decoded = autoencoder.decode(
      exemplarLatents.subarray(3 * latentSize, 4 * latentSize).map((z) => z / scaling),
    );
    expect(Array.from(images[0]?.data ?? [])).toEqual(Array.from(toRgb(decoded).data));

    const requests: Record<string, unknown>[] = [];
    const textPipeline = {
      async generate(options: Record<string, unknown>) {
        requests.push(options);
        const n = (options.prompt as string[]).length;
        return {
          images: Array.from({ length: n }, () => toRgb(pool.images.subarray(0, per))),
          latents: tensor(new Float32Array(1), [1]),
        };
      },
    } as unknown as AnyPipeline;
    await pipelineSampler(textPipeline, { guidanceScale: 4, generateOptions: { negativePrompt: 'blurry' } })({
      index: 0,
      start: 0,
      labels: [1, 2],
      prompts: ['a blue circle on a grey background', 'a red ring on a grey background'],
      seed: 5,
    });
    expect(requests[0]).toMatchObject({
      prompt: ['a blue circle on a grey background', 'a red ring on a grey background'],
      seed: 5,
      guidanceScale: 4,
      negativePrompt: 'blurry',
      outputType: 'image',
    });
  });
});
