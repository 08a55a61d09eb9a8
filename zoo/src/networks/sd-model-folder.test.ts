import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DDIMScheduler,
  DiffusionPipeline,
  EulerDiscreteScheduler,
  StableDiffusionPipeline,
  StableDiffusionXLPipeline,
} from '@noiserefine/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_SD21, TINY_SDXL } from './sd-families';
import { untrainedUNet, writeSDModelFolder } from './sd-model-folder';

const SHARED = fileURLToPath(new URL('../../models/shared', import.meta.url));
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sd-folder-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const readJson = async (dir: string, file: string) => JSON.parse(await readFile(join(dir, file), 'utf8'));

describe('writeSDModelFolder', () => {
  it('writes an SD 2.1 folder in the export layout that StableDiffusionPipeline loads and samples', async () => {
    const dir = join(root, 'tiny-sd21');
    await writeSDModelFolder(dir, {
      family: TINY_SD21,
      unet: untrainedUNet(TINY_SD21, 0),
      sharedDir: SHARED,
      training: { steps: 0 },
    });
    expect((await readdir(dir)).sort()).toEqual([
      'model_index.json',
      'scheduler',
      'text_encoder',
      'tokenizer',
      'training.json',
      'unet',
      'vae_decoder',
      'vae_encoder',
    ]);
    for (const part of ['text_encoder', 'unet', 'vae_decoder', 'vae_encoder']) {
      expect((await readdir(join(dir, part))).sort()).toEqual(['config.json', 'model.onnx']);
    }
    expect(await readJson(dir, 'model_index.json')).toMatchObject({
      _class_name: 'StableDiffusionPipeline',
      scheduler: ['diffusers', 'DDIMScheduler'],
      text_encoder: ['transformers', 'CLIPTextModel'],
      unet: ['diffusers', 'UNet2DConditionModel'],
    });
    expect(await readJson(dir, 'scheduler/scheduler_config.json')).toMatchObject({
      num_train_timesteps: 1000,
      beta_schedule: 'scaled_linear',
      beta_start: 0.00085,
      beta_end: 0.012,
      steps_offset: 1,
      set_alpha_to_one: false,
      clip_sample: false,
      prediction_type: 'v_prediction',
    });
    // SD 2.x tokenizers pad with "!".
    expect((await readJson(dir, 'tokenizer/tokenizer_config.json')).pad_token).toBe('!');

    const warnings: string[] = [];
    const pipeline = await StableDiffusionPipeline.fromPretrained(dir, {
      backend: 'onnxruntime-node',
      onWarning: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([]);
    expect(pipeline.scheduler).toBeInstanceOf(DDIMScheduler);
    const result = await pipeline.generate({
      prompt: ['a red circle', 'a blue ring'],
      numInferenceSteps: 2,
      seed: 1,
    });
    expect(result.latents.shape).toEqual([2, 4, 8, 8]);
    expect(result.images.map((i) => [i.width, i.height])).toEqual([
      [16, 16],
      [16, 16],
    ]);
    result.latents.dispose();
    await pipeline.dispose();
  });

  it('keeps what others put in an existing folder (a refiner) when it rewrites the model', async () => {
    const dir = join(root, 'rewritten');
    const options = { family: TINY_SD21, unet: untrainedUNet(TINY_SD21, 0), sharedDir: SHARED };
    expect(await writeSDModelFolder(dir, options)).toEqual([]);
    await mkdir(join(dir, 'refiner'));
    await writeFile(join(dir, 'refiner', 'model.onnx'), 'refiner bytes');
    expect(await writeSDModelFolder(dir, { ...options, unet: untrainedUNet(TINY_SD21, 1) })).toEqual([
      'refiner',
    ]);
    expect(await readFile(join(dir, 'refiner', 'model.onnx'), 'utf8')).toBe('refiner bytes');
    expect(await readdir(dir)).toContain('unet');
  });

  it('writes an SDXL folder (two encoders and tokenizers) that StableDiffusionXLPipeline loads and samples', async () => {
    const dir = join(root, 'tiny-sdxl');
    await writeSDModelFolder(dir, {
      family: TINY_SDXL,
      unet: untrainedUNet(TINY_SDXL, 0),
      sharedDir: SHARED,
    });
    expect(await readJson(dir, 'model_index.json')).toMatchObject({
      _class_name: 'StableDiffusionXLPipeline',
      force_zeros_for_empty_prompt: true,
      scheduler: ['diffusers', 'EulerDiscreteScheduler'],
      text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
      tokenizer_2: ['transformers', 'CLIPTokenizer'],
    });
    expect((await readJson(dir, 'tokenizer/tokenizer_config.json')).pad_token).toBe('<|endoftext|>');
    expect((await readJson(dir, 'tokenizer_2/tokenizer_config.json')).pad_token).toBe('!');

    const pipeline = await DiffusionPipeline.fromPretrained(dir, {
      backend: 'onnxruntime-node',
      onWarning: () => {},
    });
    expect(pipeline).toBeInstanceOf(StableDiffusionXLPipeline);
    const xl = pipeline as StableDiffusionXLPipeline;
    expect(xl.scheduler).toBeInstanceOf(EulerDiscreteScheduler);
    const embeddings = await xl.encodePrompts(['a blue plus sign'], [''], [16, 16, 0, 0, 16, 16]);
    // Penultimate states of both encoders, concatenated: 32 + 48 features; pooled text_embeds of encoder 2.
    expect(embeddings.cond.shape).toEqual([1, 77, 80]);
    expect(embeddings.pooledCond.shape).toEqual([1, 48]);
    for (const t of Object.values(embeddings)) t.dispose();
    const result = await xl.generate({ prompt: 'a blue plus sign', numInferenceSteps: 2, seed: 2 });
    expect(result.images).toHaveLength(1);
    expect([result.images[0]?.width, result.images[0]?.height]).toEqual([16, 16]);
    result.latents.dispose();
    await xl.dispose();
  });
});
