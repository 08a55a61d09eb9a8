/**
 * Assembles Stable Diffusion / SDXL pipeline folders in the layout optimum exports, from
 * real parts: committed tokenizer and patch-VAE decoder folders (fixtures/pipeline-parts),
 * a UNet file, and text encoders built in memory. For tests only.
 */
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const PIPELINE_PARTS = resolve(import.meta.dirname, '../../fixtures/pipeline-parts');

/** The parts' tokenizer vocabulary: 763 ids, <|startoftext|> 761, <|endoftext|> 762. */
export const PARTS_VOCAB = { size: 763, bos: 761, eos: 762 } as const;

/** Latent side of the fixture UNets (8) × the patch VAE's factor 2: 16 px images. */
export const IMAGE_SIZE = 16;

/** A model file: bytes to write, or a path to copy. */
export type ModelFile = Uint8Array | string;

async function writeModel(dir: string, component: string, model: ModelFile, config: object): Promise<void> {
  await mkdir(join(dir, component), { recursive: true });
  const target = join(dir, component, 'model.onnx');
  if (typeof model === 'string') await cp(model, target);
  else await writeFile(target, model);
  await writeFile(join(dir, component, 'config.json'), JSON.stringify(config, null, 2));
}

async function writeJson(path: string, value: object): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(value, null, 2));
}

/** SD's noise schedule as its scheduler_config.json writes it, under the given scheduler class. */
export function sdSchedulerConfig(className: string, extra: Record<string, unknown> = {}) {
  return {
    _class_name: className,
    num_train_timesteps: 1000,
    beta_start: 0.00085,
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    prediction_type: 'epsilon',
    steps_offset: 1,
    timestep_spacing: 'leading',
    ...extra,
  };
}

export interface StableDiffusionParts {
  unet: ModelFile;
  textEncoder: ModelFile;
  scheduler: Record<string, unknown>;
}

export interface StableDiffusionXLParts extends StableDiffusionParts {
  textEncoder2: ModelFile;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `nr-${prefix}-`));
}

/** A StableDiffusionPipeline folder (SD 2.1 layout, VAE scale 0.18215, EOS-padded tokenizer). */
export async function writeStableDiffusionFolder(dir: string, parts: StableDiffusionParts): Promise<string> {
  await writeJson(join(dir, 'model_index.json'), {
    _class_name: 'StableDiffusionPipeline',
    scheduler: ['diffusers', parts.scheduler._class_name],
    text_encoder: ['transformers', 'CLIPTextModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  });
  await writeJson(join(dir, 'scheduler', 'scheduler_config.json'), parts.scheduler);
  await cp(join(PIPELINE_PARTS, 'tokenizer'), join(dir, 'tokenizer'), { recursive: true });
  await cp(join(PIPELINE_PARTS, 'vae-decoder-sd21'), join(dir, 'vae_decoder'), { recursive: true });
  await writeModel(dir, 'text_encoder', parts.textEncoder, { architectures: ['CLIPTextModel'] });
  await writeModel(dir, 'unet', parts.unet, { sample_size: 8, in_channels: 4 });
  return dir;
}

/** A StableDiffusionXLPipeline folder (two tokenizers and encoders, VAE scale 0.13025). */
export async function writeStableDiffusionXLFolder(
  dir: string,
  parts: StableDiffusionXLParts & { contextDim: number },
): Promise<string> {
  await writeJson(join(dir, 'model_index.json'), {
    _class_name: 'StableDiffusionXLPipeline',
    force_zeros_for_empty_prompt: true,
    scheduler: ['diffusers', parts.scheduler._class_name],
    text_encoder: ['transformers', 'CLIPTextModel'],
    text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    tokenizer_2: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  });
  await writeJson(join(dir, 'scheduler', 'scheduler_config.json'), parts.scheduler);
  await cp(join(PIPELINE_PARTS, 'tokenizer'), join(dir, 'tokenizer'), { recursive: true });
  await cp(join(PIPELINE_PARTS, 'tokenizer_2'), join(dir, 'tokenizer_2'), { recursive: true });
  await cp(join(PIPELINE_PARTS, 'vae-decoder-sdxl'), join(dir, 'vae_decoder'), { recursive: true });
  await writeModel(dir, 'text_encoder', parts.textEncoder, { architectures: ['CLIPTextModel'] });
  await writeModel(dir, 'text_encoder_2', parts.textEncoder2, {
    architectures: ['CLIPTextModelWithProjection'],
  });
  await writeModel(dir, 'unet', parts.unet, {
    sample_size: 8,
    in_channels: 4,
    cross_attention_dim: parts.contextDim,
    addition_embed_type: 'text_time',
  });
  return dir;
}
