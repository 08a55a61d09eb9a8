import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostTensor, ModelFeeds, ValueInfo } from '../backend/model';
import { AbortError, ModelLoadError, ModelSignatureError } from '../errors';
import { classifierFreeGuidance } from '../guidance/classifier-free';
import { Generator } from '../random/generator';
import { SiTFlowScheduler } from '../schedulers/sit-flow';
import { type MockModelSpec, mockBackend } from '../testing/mock-backend';
import { buildClipVocabulary, clipTokenizerFiles } from '../text/clip-vocabulary';
import { tensor } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import { DiffusionPipeline } from './diffusion-pipeline';
import { SiTPipeline } from './sit-pipeline';
import { StableDiffusionPipeline } from './stable-diffusion-pipeline';
import { StableDiffusionXLPipeline } from './stable-diffusion-xl-pipeline';

const f32 = (name: string, shape: ValueInfo['shape']): ValueInfo => ({ name, dtype: 'float32', shape });
const i64 = (name: string, shape: ValueInfo['shape']): ValueInfo => ({ name, dtype: 'int64', shape });

async function writeFolder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nr-pipeline-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

const asHost = (x: Tensor | HostTensor | undefined) => x as HostTensor;
const asTensor = (x: Tensor | HostTensor | undefined) => x as Tensor;

/** A VAE decoder mock: [B, 4, h, w] → [B, 3, h, w] from the first three channels, clamped. */
const vaeDecoder: MockModelSpec = {
  inputs: [f32('latent_sample', ['B', 4, 'h', 'w'])],
  outputs: [f32('sample', ['B', 3, 'H', 'W'])],
  async run(feeds) {
    const x = asTensor(feeds.latent_sample);
    const [b, , h, w] = x.shape as number[];
    const v = await x.data();
    const out = new Float32Array((b as number) * 3 * (h as number) * (w as number));
    const plane = (h as number) * (w as number);
    for (let i = 0; i < (b as number); i++)
      out.set(v.subarray(i * 4 * plane, i * 4 * plane + 3 * plane), i * 3 * plane);
    return {
      sample: tensor(
        out.map((u) => Math.max(-1, Math.min(1, u))),
        [b as number, 3, h as number, w as number],
      ),
    };
  },
};

/** SiT mock: velocity = label/10 − x (the null class 10 pulls towards 1). */
const sitTransformer: MockModelSpec = {
  inputs: [f32('x', ['B', 4, 4, 4]), f32('t', ['B']), i64('y', ['B'])],
  outputs: [f32('output', ['B', 4, 4, 4])],
  async run(feeds) {
    const x = asTensor(feeds.x);
    const y = Array.from(asHost(feeds.y).data as BigInt64Array, Number);
    const v = await x.data();
    const per = v.length / y.length;
    return {
      output: tensor(
        v.map((u, i) => (y[Math.floor(i / per)] as number) / 10 - u),
        x.shape,
      ),
    };
  },
};

const sitFiles = {
  'model_index.json': JSON.stringify({ _class_name: 'SiTPipeline', transformer: ['noiserefine', 'SiT'] }),
  'transformer/config.json': JSON.stringify({
    num_classes: 10,
    input_size: 4,
    in_channels: 4,
    guidance_scale: 3,
  }),
  'transformer/model.onnx': 'mock',
  'scheduler/scheduler_config.json': JSON.stringify({ _class_name: 'SiTFlowScheduler' }),
  'vae_decoder/config.json': JSON.stringify({ scaling_factor: 0.5 }),
  'vae_decoder/model.onnx': 'mock',
};

describe('SiTPipeline', () => {
  it('batches [uncond, cond] in one call per step and matches a hand-written CFG Euler loop', async () => {
    const dir = await writeFolder(sitFiles);
    const backend = mockBackend({
      'transformer/model.onnx': sitTransformer,
      'vae_decoder/model.onnx': vaeDecoder,
    });
    const pipe = await DiffusionPipeline.fromPretrained(dir, { backend });
    expect(pipe).toBeInstanceOf(SiTPipeline);
    const events: number[] = [];
    const { images, latents } = await (pipe as SiTPipeline).generate({
      classLabel: [2, 7],
      seed: 5,
      numInferenceSteps: 6,
      guidanceScale: 2,
      onProgress: (e) => events.push(e.step),
    });
    const transformerCalls = backend.calls.filter((c) => c.model === 'transformer/model.onnx');
    expect(transformerCalls).toHaveLength(6);
    const first = transformerCalls[0]?.feeds as ModelFeeds;
    expect(Array.from(asHost(first.y).data as BigInt64Array, Number)).toEqual([10, 10, 2, 7]);
    expect(asTensor(first.x).shape).toEqual([4, 4, 4, 4]);
    expect(events).toEqual([1, 2, 3, 4, 5, 6]);
    // The same loop by hand: v = u + w(c − u) with u = 1 − x, c = l/10 − x.
    const scheduler = new SiTFlowScheduler();
    scheduler.setTimesteps(6);
    let x = new Generator(5).randn([2, 4, 4, 4]);
    const labels = [2, 7];
    for (const t of scheduler.timesteps) {
      const xs = await x.data();
      const v = xs.map((u, i) => {
        const c = (labels[Math.floor(i / 64)] as number) / 10 - u;
        const un = 1 - u;
        return un + 2 * (c - un);
      });
      x = scheduler.step(tensor(v, x.shape), t, x).prevSample;
    }
    const expected = await x.data();
    const got = await latents.data();
    expected.forEach((e, i) => {
      expect(got[i]).toBeCloseTo(e, 5);
    });
    expect(images).toHaveLength(2);
    expect(images[0]?.width).toBe(4);
    expect(images[0]?.data.length).toBe(4 * 4 * 3);
  });

  it('runs only the cond pass at guidance scale 1, and honours outputType latent', async () => {
    const dir = await writeFolder(sitFiles);
    const backend = mockBackend({
      'transformer/model.onnx': sitTransformer,
      'vae_decoder/model.onnx': vaeDecoder,
    });
    const pipe = await SiTPipeline.fromPretrained(dir, { backend });
    const { images } = await pipe.generate({
      classLabel: 3,
      numInferenceSteps: 3,
      guidanceScale: 1,
      outputType: 'latent',
    });
    expect(images).toEqual([]);
    const y = backend.calls[0]?.feeds.y;
    expect(Array.from(asHost(y).data as BigInt64Array, Number)).toEqual([3]);
    expect(backend.calls.every((c) => c.model === 'transformer/model.onnx')).toBe(true);
  });

  it('stops on an aborted signal with a typed error', async () => {
    const dir = await writeFolder(sitFiles);
    const backend = mockBackend({
      'transformer/model.onnx': sitTransformer,
      'vae_decoder/model.onnx': vaeDecoder,
    });
    const pipe = await SiTPipeline.fromPretrained(dir, { backend });
    const controller = new AbortController();
    const run = pipe.generate({
      classLabel: 1,
      numInferenceSteps: 5,
      signal: controller.signal,
      onProgress: (e) => e.step === 2 && controller.abort(),
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(backend.calls.length).toBe(2);
  });

  it('names a missing file, and rejects a model whose inputs do not match the family', async () => {
    const { 'transformer/model.onnx': _, ...withoutModel } = sitFiles;
    const missing = await writeFolder(withoutModel);
    const backend = mockBackend({
      'transformer/model.onnx': sitTransformer,
      'vae_decoder/model.onnx': vaeDecoder,
    });
    await expect(SiTPipeline.fromPretrained(missing, { backend })).rejects.toThrow(
      /transformer\/model\.onnx/,
    );
    await expect(SiTPipeline.fromPretrained(missing, { backend })).rejects.toBeInstanceOf(ModelLoadError);
    const dir = await writeFolder(sitFiles);
    const wrong = mockBackend({
      'transformer/model.onnx': {
        ...sitTransformer,
        inputs: [f32('sample', ['B', 4, 4, 4]), f32('timestep', [])],
      },
      'vae_decoder/model.onnx': vaeDecoder,
    });
    const error = await SiTPipeline.fromPretrained(dir, { backend: wrong }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelSignatureError);
    expect(String(error)).toMatch(/expected inputs x, t, y.*the model has sample: float32/);
  });
});

const words = ['a', 'red', 'blue', 'circle', 'ring', 'on', 'grey', 'background'];
const vocabulary = buildClipVocabulary(words);
const tokenizerFolder = (pad: 'eos' | 'exclamation', prefix: string) =>
  Object.fromEntries(
    Object.entries(clipTokenizerFiles(vocabulary, { padStyle: pad })).map(([k, v]) => [`${prefix}/${k}`, v]),
  );

/** A text encoder mock: hidden state [B, 77, D] = token id / 1000 in every feature; layered outputs for SDXL. */
function textEncoder(dim: number, layered: boolean, pooledName: string): MockModelSpec {
  const layers = layered ? [0, 1, 2].map((i) => f32(`hidden_states.${i}`, ['B', 77, dim])) : [];
  return {
    inputs: [i64('input_ids', ['B', 77])],
    outputs: [f32('last_hidden_state', ['B', 77, dim]), f32(pooledName, ['B', dim]), ...layers],
    run(feeds) {
      const ids = Array.from(asHost(feeds.input_ids).data as BigInt64Array, Number);
      const b = ids.length / 77;
      const hidden = (scale: number) =>
        tensor(
          Float32Array.from(
            { length: ids.length * dim },
            (_, i) => ((ids[Math.floor(i / dim)] as number) / 1000) * scale,
          ),
          [b, 77, dim],
        );
      const out: Record<string, Tensor> = {
        last_hidden_state: hidden(1),
        [pooledName]: tensor(new Float32Array(b * dim).fill(0.5), [b, dim]),
      };
      if (layered) for (const i of [0, 1, 2]) out[`hidden_states.${i}`] = hidden(i + 1);
      return out;
    },
  };
}

/** Float feeds of the first UNet call, read while they are alive. */
const firstUnetFeeds: Record<string, Float32Array> = {};

/** A UNet mock: eps = mean of encoder_hidden_states per sample. */
function unet(timestep: ValueInfo, extra: ValueInfo[] = []): MockModelSpec {
  let first = true;
  return {
    inputs: [f32('sample', ['B', 4, 2, 2]), timestep, f32('encoder_hidden_states', ['B', 77, 'D']), ...extra],
    outputs: [f32('out_sample', ['B', 4, 2, 2])],
    async run(feeds) {
      const x = asTensor(feeds.sample);
      if (first) {
        first = false;
        for (const name of ['encoder_hidden_states', 'text_embeds', 'time_ids']) {
          if (feeds[name]) firstUnetFeeds[name] = await asTensor(feeds[name]).data();
        }
      }
      const e = await asTensor(feeds.encoder_hidden_states).data();
      const b = x.shape[0] as number;
      const per = e.length / b;
      const means = Array.from(
        { length: b },
        (_, i) => e.subarray(i * per, (i + 1) * per).reduce((s, v) => s + v, 0) / per,
      );
      const eps = Float32Array.from(
        { length: x.size },
        (_, i) => means[Math.floor(i / (x.size / b))] as number,
      );
      return { out_sample: tensor(eps, x.shape) };
    },
  };
}

const sdFiles = (className: string, extra: Record<string, string> = {}) => ({
  'model_index.json': JSON.stringify({ _class_name: className }),
  'scheduler/scheduler_config.json': JSON.stringify({
    _class_name: 'DDIMScheduler',
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    beta_end: 0.012,
    clip_sample: false,
    set_alpha_to_one: false,
    steps_offset: 1,
  }),
  'unet/config.json': JSON.stringify({ sample_size: 2, in_channels: 4 }),
  'unet/model.onnx': 'mock',
  'text_encoder/model.onnx': 'mock',
  'vae_decoder/config.json': JSON.stringify({ scaling_factor: 0.18215, block_out_channels: [8, 8] }),
  'vae_decoder/model.onnx': 'mock',
  ...tokenizerFolder('eos', 'tokenizer'),
  ...extra,
});

describe('StableDiffusionPipeline', () => {
  for (const timestep of [i64('timestep', ['B']), f32('timestep', [])]) {
    it(`feeds the timestep as the model declares it (${timestep.dtype} [${timestep.shape.join(', ')}])`, async () => {
      const dir = await writeFolder(sdFiles('StableDiffusionPipeline'));
      const backend = mockBackend({
        'unet/model.onnx': unet(timestep),
        'text_encoder/model.onnx': textEncoder(8, false, 'pooler_output'),
        'vae_decoder/model.onnx': vaeDecoder,
      });
      const pipe = (await DiffusionPipeline.fromPretrained(dir, { backend })) as StableDiffusionPipeline;
      expect(pipe).toBeInstanceOf(StableDiffusionPipeline);
      const { images, latents } = await pipe.generate({
        prompt: 'a red circle',
        numInferenceSteps: 4,
        seed: 1,
      });
      // Default size: sample_size 2 × VAE factor 2 = 4 px, i.e. a 2×2 latent.
      expect(latents.shape).toEqual([1, 4, 2, 2]);
      expect(images).toHaveLength(1);
      const unetCalls = backend.calls.filter((c) => c.model === 'unet/model.onnx');
      expect(unetCalls).toHaveLength(4);
      const t = asHost(unetCalls[0]?.feeds.timestep);
      expect(t.dtype).toBe(timestep.dtype);
      expect(t.shape).toEqual(timestep.shape.length === 0 ? [] : [2]);
      expect(Number(t.data[0])).toBe(751);
      // Batch order [uncond, cond]: the empty negative prompt first.
      const enc = firstUnetFeeds.encoder_hidden_states as Float32Array;
      const ids = Array.from(asHost(backend.calls[1]?.feeds.input_ids).data as BigInt64Array, Number);
      expect(enc[0]).toBeCloseTo((ids[0] as number) / 1000, 6);
    });
  }
});

describe('StableDiffusionXLPipeline', () => {
  it('concatenates penultimate hidden states, zeroes the empty negative prompt and sends time_ids', async () => {
    const files = sdFiles('StableDiffusionXLPipeline', {
      'text_encoder_2/model.onnx': 'mock',
      ...tokenizerFolder('exclamation', 'tokenizer_2'),
    });
    const dir = await writeFolder(files);
    const backend = mockBackend({
      'unet/model.onnx': unet(f32('timestep', []), [f32('text_embeds', ['B', 6]), f32('time_ids', ['B', 6])]),
      'text_encoder/model.onnx': textEncoder(4, true, 'pooler_output'),
      'text_encoder_2/model.onnx': textEncoder(6, true, 'text_embeds'),
      'vae_decoder/model.onnx': vaeDecoder,
    });
    const pipe = (await DiffusionPipeline.fromPretrained(dir, { backend })) as StableDiffusionXLPipeline;
    expect(pipe).toBeInstanceOf(StableDiffusionXLPipeline);
    await pipe.generate({
      prompt: 'a blue ring',
      numInferenceSteps: 2,
      outputType: 'latent',
      guidance: classifierFreeGuidance({ guidanceScale: 5 }),
    });
    const call = backend.calls.find((c) => c.model === 'unet/model.onnx');
    expect(asTensor(call?.feeds.encoder_hidden_states).shape).toEqual([2, 77, 10]);
    const h = firstUnetFeeds.encoder_hidden_states as Float32Array;
    expect(h.length).toBe(2 * 77 * 10);
    expect(Array.from(h.subarray(0, 10)).every((v) => v === 0)).toBe(true); // uncond zeroed
    // cond: layer 1 (penultimate of 0..2) is 2× the token-id feature.
    const ids = Array.from(asHost(backend.calls[0]?.feeds.input_ids).data as BigInt64Array, Number);
    expect(h[770]).toBeCloseTo(((ids[0] as number) / 1000) * 2, 6);
    const timeIds = firstUnetFeeds.time_ids as Float32Array;
    expect(Array.from(timeIds.subarray(0, 6))).toEqual([4, 4, 0, 0, 4, 4]);
    const pooled = firstUnetFeeds.text_embeds as Float32Array;
    expect(Array.from(pooled.subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(pooled[6]).toBe(0.5);
  });
});
