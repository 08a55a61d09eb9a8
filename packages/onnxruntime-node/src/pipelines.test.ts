import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  DiffusionPipeline,
  float32ToFloat16Bits,
  Generator,
  type HostTensor,
  type Model,
  ModelLoadError,
  ModelSignatureError,
  type RgbImage,
  type Scheduler,
  SiTPipeline,
  StableDiffusionPipeline,
  StableDiffusionXLPipeline,
  schedulerFromConfig,
  tensor,
} from '@noiserefine/core';
import { EXACT, expectClose, fixturePath, type Tolerance } from '@noiserefine/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { onnxruntimeNode } from './index';
import { tinyTextEncoder } from './test-support/clip-text-encoder';
import {
  IMAGE_SIZE,
  PARTS_VOCAB,
  PIPELINE_PARTS,
  sdSchedulerConfig,
  tempDir,
  writeStableDiffusionFolder,
  writeStableDiffusionXLFolder,
} from './test-support/pipeline-folders';
import { tinySDXLUNet } from './test-support/sdxl-unet';

const backend = onnxruntimeNode();
const created: string[] = [];
afterAll(async () => {
  await Promise.all(created.map((dir) => rm(dir, { recursive: true, force: true })));
  await backend.dispose();
});

async function folder(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  created.push(dir);
  return dir;
}

const PROMPTS = ['a red circle', 'a blue ring'];
const STEPS = 5;
const GUIDANCE = 4;
const SEED = 7;
const LATENT_SHAPE = [PROMPTS.length, 4, 8, 8];
/**
 * The pipeline fuses CFG as (1 − w)·u + w·c, the hand loop writes u + w·(c − u): both round
 * once to float32 and agree bit for bit here, but a rounding tie may differ by one ulp.
 */
const FLOAT32_LOOP: Tolerance = { atol: 1e-5, rtol: 1e-5 };

const vocab: Record<string, number> = JSON.parse(
  await readFile(join(PIPELINE_PARTS, 'tokenizer', 'vocab.json'), 'utf8'),
);

/** CLIP ids of a prompt whose words are single tokens: BOS, words, EOS, then padding to 77. */
function tokenIds(prompt: string, pad: number): number[] {
  const words = prompt === '' ? [] : prompt.split(' ').map((w) => vocab[`${w}</w>`] as number);
  const ids = [PARTS_VOCAB.bos, ...words, PARTS_VOCAB.eos];
  return [...ids, ...new Array<number>(77 - ids.length).fill(pad)];
}

function idsFeedOf(dtype: 'int64' | 'int32', prompts: readonly string[], pad: number): HostTensor {
  const ids = prompts.flatMap((p) => tokenIds(p, pad));
  const shape = [prompts.length, 77];
  return dtype === 'int64'
    ? { dtype, data: BigInt64Array.from(ids, (v) => BigInt(v)), shape }
    : { dtype, data: Int32Array.from(ids), shape };
}

async function encoderOutputs(
  model: Model,
  dtype: 'int64' | 'int32',
  prompts: readonly string[],
  pad: number,
  names: readonly string[],
): Promise<Float32Array[]> {
  const out = await model.run({ input_ids: idsFeedOf(dtype, prompts, pad) }, { outputs: names });
  return Promise.all(names.map((n) => (out[n] as NonNullable<(typeof out)[string]>).data()));
}

/** [uncond; cond] stacked on the batch axis. */
const stack = (a: Float32Array, b: Float32Array) => {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

type TimestepFeed = (t: number, batch: number) => HostTensor;
const int64Timestep: TimestepFeed = (t, batch) => ({
  dtype: 'int64',
  data: new BigInt64Array(batch).fill(BigInt(t)),
  shape: [batch],
});
const float32ScalarTimestep: TimestepFeed = (t) => ({
  dtype: 'float32',
  data: Float32Array.of(t),
  shape: [],
});
const float16ScalarTimestep: TimestepFeed = (t) => ({
  dtype: 'float16',
  data: float32ToFloat16Bits(Float32Array.of(t)),
  shape: [],
});

/**
 * Classifier-free guided sampling by hand: seeded noise times initNoiseSigma, then per
 * step one UNet call on [x; x] with [uncond; cond] conditioning, u + w·(c − u), step.
 */
async function handWrittenLoop(options: {
  unet: Model;
  scheduler: Scheduler;
  timestep: TimestepFeed;
  /** Conditioning feeds for the batch [uncond; cond], as Float32Arrays with shapes. */
  conditioning: Record<string, { data: Float32Array; shape: number[] }>;
}): Promise<Float32Array> {
  const { unet, scheduler } = options;
  scheduler.setTimesteps(STEPS);
  const size = LATENT_SHAPE.reduce((a, b) => a * b, 1);
  const batch = LATENT_SHAPE[0] as number;
  let x: Float32Array = new Generator(SEED).randnValues(size).map((v) => v * scheduler.initNoiseSigma);
  const conditioning = Object.fromEntries(
    Object.entries(options.conditioning).map(([name, c]) => [name, tensor(c.data, c.shape)]),
  );
  for (const t of scheduler.timesteps) {
    const input = await scheduler.scaleModelInput(tensor(x, LATENT_SHAPE), t).data();
    const { out_sample } = await unet.run({
      sample: tensor(stack(input, input), [2 * batch, ...LATENT_SHAPE.slice(1)]),
      timestep: options.timestep(t, 2 * batch),
      ...conditioning,
    });
    const eps = await (out_sample as NonNullable<typeof out_sample>).data();
    const guided = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const u = eps[i] as number;
      const c = eps[size + i] as number;
      guided[i] = u + GUIDANCE * (c - u);
    }
    x = await scheduler.step(tensor(guided, LATENT_SHAPE), t, tensor(x, LATENT_SHAPE)).prevSample.data();
  }
  return x;
}

/** The patch VAE decoder on latents / scalingFactor, mapped to bytes as diffusers' postprocess. */
async function decodeByHand(
  dir: string,
  latents: Float32Array,
  scalingFactor: number,
): Promise<Uint8Array[]> {
  const vae = await backend.loadModel(join(dir, 'vae_decoder', 'model.onnx'));
  const { sample } = await vae.run({
    latent_sample: tensor(
      latents.map((v) => v / scalingFactor),
      LATENT_SHAPE,
    ),
  });
  const pixels = await (sample as NonNullable<typeof sample>).data();
  await vae.dispose();
  const plane = IMAGE_SIZE * IMAGE_SIZE;
  return PROMPTS.map((_, b) => {
    const rgb = new Uint8Array(plane * 3);
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < plane; p++) {
        const v = ((pixels[(b * 3 + c) * plane + p] as number) / 2 + 0.5) * 255;
        rgb[p * 3 + c] = Math.round(Math.min(255, Math.max(0, v)));
      }
    return rgb;
  });
}

function expectImages(images: readonly RgbImage[], expected?: readonly Uint8Array[]): void {
  expect(images).toHaveLength(PROMPTS.length);
  images.forEach((image, i) => {
    expect([image.width, image.height]).toEqual([IMAGE_SIZE, IMAGE_SIZE]);
    expect(image.data.length).toBe(IMAGE_SIZE * IMAGE_SIZE * 3);
    // Decoded content, not a flat fill.
    expect(new Set(image.data).size).toBeGreaterThan(10);
    if (expected) {
      // float rounding may move a pixel by one level at most
      expectClose(image.data, expected[i] as Uint8Array, { atol: 1, rtol: 0 }, `image ${i}`);
    }
  });
}

const textEncoderOptions = { vocabSize: PARTS_VOCAB.size, hiddenSize: 32, numLayers: 2, heads: 2, seed: 1 };

interface StableDiffusionCase {
  name: string;
  unet: 'tiny-unet' | 'tiny-unet-scalar-timestep' | 'tiny-unet-fp16';
  ids: 'int64' | 'int32';
  scheduler: Record<string, unknown>;
  timestep: TimestepFeed;
  tolerance: Tolerance;
}

const SD_CASES: StableDiffusionCase[] = [
  {
    name: 'int64 [B] timestep UNet, int64 token ids, DDIM',
    unet: 'tiny-unet',
    ids: 'int64',
    scheduler: sdSchedulerConfig('DDIMScheduler', { clip_sample: false, set_alpha_to_one: false }),
    timestep: int64Timestep,
    tolerance: FLOAT32_LOOP,
  },
  {
    name: 'float32 scalar timestep UNet, int32 token ids, Euler',
    unet: 'tiny-unet-scalar-timestep',
    ids: 'int32',
    scheduler: sdSchedulerConfig('EulerDiscreteScheduler'),
    timestep: float32ScalarTimestep,
    tolerance: FLOAT32_LOOP,
  },
  {
    // Inputs are rounded to float16 in the model: a 1e-7 difference can move a value by one
    // float16 ulp (~1e-3 relative) and the untrained UNet carries it along.
    name: 'float16 UNet (float16 inputs, scalar timestep), int64 token ids, DDIM',
    unet: 'tiny-unet-fp16',
    ids: 'int64',
    scheduler: sdSchedulerConfig('DDIMScheduler', { clip_sample: false, set_alpha_to_one: false }),
    timestep: float16ScalarTimestep,
    tolerance: { atol: 2e-2, rtol: 2e-2 },
  },
];

describe('StableDiffusionPipeline on onnxruntime-node', () => {
  for (const c of SD_CASES) {
    it(`${c.name}: latents equal a hand-written CFG loop; images are decoded at 16×16`, async () => {
      const dir = await writeStableDiffusionFolder(await folder('sd'), {
        unet: fixturePath(c.unet),
        textEncoder: tinyTextEncoder({ ...textEncoderOptions, idsType: c.ids }),
        scheduler: c.scheduler,
      });
      const pipe = await DiffusionPipeline.fromPretrained(dir, {
        backend: 'onnxruntime-node',
        onWarning: (m) => expect.fail(`unexpected warning: ${m}`),
      });
      expect(pipe).toBeInstanceOf(StableDiffusionPipeline);
      const { images, latents } = await (pipe as StableDiffusionPipeline).generate({
        prompt: PROMPTS,
        seed: SEED,
        numInferenceSteps: STEPS,
        guidanceScale: GUIDANCE,
      });
      await pipe.dispose();
      expect(latents.shape).toEqual(LATENT_SHAPE);

      const encoder = await backend.loadModel(join(dir, 'text_encoder', 'model.onnx'));
      const [cond] = await encoderOutputs(encoder, c.ids, PROMPTS, PARTS_VOCAB.eos, ['last_hidden_state']);
      const [uncond] = await encoderOutputs(encoder, c.ids, ['', ''], PARTS_VOCAB.eos, ['last_hidden_state']);
      const unet = await backend.loadModel(join(dir, 'unet', 'model.onnx'));
      const expected = await handWrittenLoop({
        unet,
        scheduler: schedulerFromConfig(c.scheduler),
        timestep: c.timestep,
        conditioning: {
          encoder_hidden_states: { data: stack(uncond!, cond!), shape: [4, 77, 32] },
        },
      });
      await Promise.all([encoder.dispose(), unet.dispose()]);
      const got = await latents.data();
      expectClose(got, expected, c.tolerance, `${c.unet} final latents`);
      expect(Math.max(...Array.from(got, Math.abs))).toBeGreaterThan(0.1);
      expectImages(images, await decodeByHand(dir, got, 0.18215));
    });
  }

  it('gives the same latents for int32 and int64 token ids', async () => {
    const run = async (idsType: 'int64' | 'int32') => {
      const dir = await writeStableDiffusionFolder(await folder('sd-ids'), {
        unet: fixturePath('tiny-unet'),
        textEncoder: tinyTextEncoder({ ...textEncoderOptions, idsType }),
        scheduler: sdSchedulerConfig('DDIMScheduler', { clip_sample: false }),
      });
      const pipe = await StableDiffusionPipeline.fromPretrained(dir, { backend });
      expect(pipe.textEncoder.inputs[0]?.dtype).toBe(idsType);
      const { latents } = await pipe.generate({
        prompt: 'a blue circle',
        seed: 3,
        numInferenceSteps: 3,
        outputType: 'latent',
      });
      await pipe.dispose();
      return latents.data();
    };
    expectClose(await run('int32'), await run('int64'), EXACT, 'latents');
  });
});

describe('StableDiffusionXLPipeline on onnxruntime-node', () => {
  it('concatenates penultimate states of two builder-made encoders, sends text_embeds and time_ids, and equals a hand-written loop', async () => {
    const scheduler = sdSchedulerConfig('EulerDiscreteScheduler');
    const encoder1 = {
      ...textEncoderOptions,
      hiddenSize: 16,
      idsType: 'int64' as const,
      outputHiddenStates: true,
    };
    const encoder2 = {
      ...textEncoderOptions,
      hiddenSize: 24,
      seed: 2,
      idsType: 'int32' as const,
      projectionDim: 20,
      outputHiddenStates: true,
    };
    const dir = await writeStableDiffusionXLFolder(await folder('sdxl'), {
      unet: tinySDXLUNet({ contextDim: 40, pooledDim: 20, seed: 3 }),
      textEncoder: tinyTextEncoder(encoder1),
      textEncoder2: tinyTextEncoder(encoder2),
      scheduler,
      contextDim: 40,
    });
    const pipe = await DiffusionPipeline.fromPretrained(dir, { backend: 'onnxruntime-node' });
    expect(pipe).toBeInstanceOf(StableDiffusionXLPipeline);
    const { images, latents } = await (pipe as StableDiffusionXLPipeline).generate({
      prompt: PROMPTS,
      seed: SEED,
      numInferenceSteps: STEPS,
      guidanceScale: GUIDANCE,
    });
    await pipe.dispose();

    const text1 = await backend.loadModel(join(dir, 'text_encoder', 'model.onnx'));
    const text2 = await backend.loadModel(join(dir, 'text_encoder_2', 'model.onnx'));
    // Two layers: hidden_states.0 (embeddings) … hidden_states.2; SDXL takes hidden_states.1.
    const [h1] = await encoderOutputs(text1, 'int64', PROMPTS, PARTS_VOCAB.eos, ['hidden_states.1']);
    const [h2, pooled] = await encoderOutputs(text2, 'int32', PROMPTS, vocab['!'] as number, [
      'hidden_states.1',
      'text_embeds',
    ]);
    const context = new Float32Array(2 * 77 * 40);
    for (let row = 0; row < 2 * 77; row++) {
      context.set(h1!.subarray(row * 16, (row + 1) * 16), row * 40);
      context.set(h2!.subarray(row * 24, (row + 1) * 24), row * 40 + 16);
    }
    const unet = await backend.loadModel(join(dir, 'unet', 'model.onnx'));
    // force_zeros_for_empty_prompt: the uncond half is zeros; time_ids (16, 16, 0, 0, 16, 16).
    const timeIds = Float32Array.from({ length: 4 * 6 }, (_, i) => [16, 16, 0, 0, 16, 16][i % 6] as number);
    const expected = await handWrittenLoop({
      unet,
      scheduler: schedulerFromConfig(scheduler),
      timestep: float32ScalarTimestep,
      conditioning: {
        encoder_hidden_states: { data: stack(new Float32Array(context.length), context), shape: [4, 77, 40] },
        text_embeds: { data: stack(new Float32Array(pooled!.length), pooled!), shape: [4, 20] },
        time_ids: { data: timeIds, shape: [4, 6] },
      },
    });
    await Promise.all([text1.dispose(), text2.dispose(), unet.dispose()]);
    const got = await latents.data();
    expectClose(got, expected, FLOAT32_LOOP, 'SDXL final latents');
    expectImages(images, await decodeByHand(dir, got, 0.13025));
  });
});

describe('loading errors on real files', () => {
  const sdFolder = async () =>
    writeStableDiffusionFolder(await folder('sd-errors'), {
      unet: fixturePath('tiny-unet'),
      textEncoder: tinyTextEncoder({ ...textEncoderOptions, idsType: 'int64' }),
      scheduler: sdSchedulerConfig('DDIMScheduler'),
    });

  it('names the missing file in a ModelLoadError', async () => {
    const dir = await sdFolder();
    await rm(join(dir, 'unet', 'model.onnx'));
    const error = await StableDiffusionPipeline.fromPretrained(dir, { backend }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as ModelLoadError).file).toBe(join(dir, 'unet', 'model.onnx'));
    expect(String(error)).toMatch(/unet ONNX file is missing/);
  });

  it('reports a corrupt model.onnx as a ModelLoadError naming it', async () => {
    const dir = await sdFolder();
    await writeFile(join(dir, 'text_encoder', 'model.onnx'), 'this is not a protobuf model');
    const error = await StableDiffusionPipeline.fromPretrained(dir, { backend }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect(String(error)).toContain(join(dir, 'text_encoder', 'model.onnx'));
  });

  it('rejects the SiT model in unet/ with the expected and found inputs', async () => {
    const dir = await writeStableDiffusionFolder(await folder('sd-sit'), {
      unet: fixturePath('tiny-sit'),
      textEncoder: tinyTextEncoder({ ...textEncoderOptions, idsType: 'int64' }),
      scheduler: sdSchedulerConfig('DDIMScheduler'),
    });
    const error = await DiffusionPipeline.fromPretrained(dir, { backend }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelSignatureError);
    expect(String(error)).toMatch(
      /Stable Diffusion UNet does not match its family: expected inputs sample, timestep, encoder_hidden_states; missing sample, timestep, encoder_hidden_states; the model has x: float32 \[batch, 4, 8, 8\]; t: float32 \[batch\]; y: int64 \[batch\]/,
    );
  });

  it('rejects an SD 2.x UNet in an SDXL folder: it lacks text_embeds and time_ids', async () => {
    const encoder = { ...textEncoderOptions, idsType: 'int64' as const, outputHiddenStates: true };
    const dir = await writeStableDiffusionXLFolder(await folder('sdxl-sd'), {
      unet: fixturePath('tiny-unet'),
      textEncoder: tinyTextEncoder(encoder),
      textEncoder2: tinyTextEncoder({ ...encoder, projectionDim: 32 }),
      scheduler: sdSchedulerConfig('EulerDiscreteScheduler'),
      contextDim: 64,
    });
    const error = await DiffusionPipeline.fromPretrained(dir, { backend }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelSignatureError);
    expect(String(error)).toMatch(/missing text_embeds, time_ids; the model has sample: float32/);
  });
});

/** The zoo's trained folders, once they are built (they are trained outside the test run). */
const ZOO_MODELS = resolve(import.meta.dirname, '../../../zoo/models');
const ZOO_FOLDERS = ['tiny-sit', 'tiny-sd21', 'tiny-sdxl'] as const;

describe('zoo model folders', () => {
  for (const name of ZOO_FOLDERS) {
    const dir = join(ZOO_MODELS, name);
    // The zoo folders are committed: a missing one is a failure, not a skip.
    it(`${name}: DiffusionPipeline.fromPretrained generates one image`, async () => {
      const pipe = await DiffusionPipeline.fromPretrained(dir, { backend: 'onnxruntime-node' });
      const vae = JSON.parse(await readFile(join(dir, 'vae_decoder', 'config.json'), 'utf8'));
      const factor = 2 ** ((vae.block_out_channels as unknown[]).length - 1);
      const { images, latents } =
        pipe instanceof SiTPipeline
          ? await pipe.generate({ classLabel: 0, numInferenceSteps: 8, seed: 0 })
          : await pipe.generate({ prompt: 'a red circle', numInferenceSteps: 8, seed: 0 });
      await pipe.dispose();
      const [, , h, w] = latents.shape as [number, number, number, number];
      expect(images).toHaveLength(1);
      expect([images[0]?.width, images[0]?.height]).toEqual([w * factor, h * factor]);
      expect(Array.from(await latents.data()).every(Number.isFinite)).toBe(true);
      expect(new Set(images[0]?.data).size).toBeGreaterThan(1);
    });
  }
});
