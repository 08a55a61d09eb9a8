import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelLoadError } from '@noiserefine/core';
import { encodeModel, type ModelProto } from '@noiserefine/onnx';
import type { SDFamily } from './sd-families';
import { buildSDUNet, unetConfigJson } from './sd-unet';
import { buildClipTextEncoder, clipTextConfigJson } from './text-encoder';

export interface SDModelFolderOptions {
  family: SDFamily;
  /** unet/model.onnx bytes (trained, or freshly built). */
  unet: Uint8Array;
  /** The folder holding the zoo's shared tokenizer/, tokenizer_2/ and patch-vae-* folders. */
  sharedDir: string;
  /**
   * model.onnx bytes of the text encoders by component (default: built from the family's seeds).
   * A training passes the files it encoded its captions with, so the folder conditions exactly so.
   */
  textEncoders?: ReadonlyMap<string, Uint8Array>;
  /** Written as training.json: how the weights were made (absent for an untrained folder). */
  training?: Record<string, unknown>;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** model_index.json as diffusers writes it for an ONNX export (vae_encoder/vae_decoder components). */
export function sdModelIndex(family: SDFamily): Record<string, unknown> {
  const schedulerClass = family.scheduler().className;
  const encoders = Object.fromEntries(
    family.textEncoders.flatMap((e) => [
      [
        e.component,
        [
          'transformers',
          e.config.projectionDim === undefined ? 'CLIPTextModel' : 'CLIPTextModelWithProjection',
        ],
      ],
      [e.tokenizer, ['transformers', 'CLIPTokenizer']],
    ]),
  );
  return {
    _class_name: family.pipelineClass,
    _diffusers_version: '0.30.0',
    ...(family.pipelineClass === 'StableDiffusionXLPipeline'
      ? { force_zeros_for_empty_prompt: family.forceZerosForEmptyPrompt }
      : { feature_extractor: [null, null], requires_safety_checker: false, safety_checker: [null, null] }),
    scheduler: ['diffusers', schedulerClass],
    ...encoders,
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae_decoder: ['diffusers', 'AutoencoderKL'],
    vae_encoder: ['diffusers', 'AutoencoderKL'],
  };
}

/** The family's frozen text encoders, built from their seeds. */
export function buildFamilyTextEncoders(
  family: SDFamily,
): Map<SDFamily['textEncoders'][number]['component'], ModelProto> {
  return new Map(
    family.textEncoders.map((e) => [
      e.component,
      buildClipTextEncoder(e.config, { seed: e.seed, metadata: { family: family.name } }),
    ]),
  );
}

/** An untrained UNet of the family, as ONNX bytes. */
export function untrainedUNet(family: SDFamily, seed: number): Uint8Array {
  return encodeModel(buildSDUNet(family.unet, { seed, metadata: { family: family.name } }));
}

async function copyComponent(source: string, target: string): Promise<void> {
  try {
    await readFile(join(source, 'config.json'));
  } catch (error) {
    throw new ModelLoadError(source, 'expected a component folder with config.json', { cause: error });
  }
  await cp(source, target, { recursive: true });
}

async function copyTokenizer(source: string, target: string): Promise<void> {
  try {
    await readFile(join(source, 'vocab.json'));
  } catch (error) {
    throw new ModelLoadError(source, 'expected a CLIP tokenizer folder with vocab.json and merges.txt', {
      cause: error,
    });
  }
  await cp(source, target, { recursive: true });
}

/**
 * Writes a pipeline folder in the layout of a real ONNX export: model_index.json,
 * scheduler/scheduler_config.json, tokenizer/ (+ tokenizer_2/), text_encoder/ (+ text_encoder_2/),
 * unet/, vae_decoder/, vae_encoder/ (each model.onnx + config.json), and training.json. The
 * folder is assembled next to `dir` and renamed into place, so a reader never sees half of it;
 * entries of an existing folder that the export does not write are kept (their names are returned).
 */
export async function writeSDModelFolder(dir: string, options: SDModelFolderOptions): Promise<string[]> {
  const { family, sharedDir } = options;
  const staging = join(dirname(dir), `.${basename(dir)}.staging`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  for (const part of ['vae_decoder', 'vae_encoder']) {
    await copyComponent(join(sharedDir, family.vae, part), join(staging, part));
  }
  const built = options.textEncoders ? undefined : buildFamilyTextEncoders(family);
  for (const spec of family.textEncoders) {
    await copyTokenizer(join(sharedDir, spec.sharedTokenizer), join(staging, spec.tokenizer));
    await mkdir(join(staging, spec.component));
    const bytes =
      options.textEncoders?.get(spec.component) ?? encodeModel(built?.get(spec.component) as ModelProto);
    await writeFile(join(staging, spec.component, 'model.onnx'), bytes);
    await writeFile(join(staging, spec.component, 'config.json'), json(clipTextConfigJson(spec.config)));
  }
  await mkdir(join(staging, 'unet'));
  await writeFile(join(staging, 'unet', 'model.onnx'), options.unet);
  await writeFile(join(staging, 'unet', 'config.json'), json(unetConfigJson(family.unet)));
  await mkdir(join(staging, 'scheduler'));
  await writeFile(
    join(staging, 'scheduler', 'scheduler_config.json'),
    json({ ...family.scheduler().toConfig(), _diffusers_version: '0.30.0' }),
  );
  await writeFile(join(staging, 'model_index.json'), json(sdModelIndex(family)));
  if (options.training) await writeFile(join(staging, 'training.json'), json(options.training));
  const kept = await carryOver(dir, staging);
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
  return kept;
}

/**
 * Moves the entries of an existing `dir` that the export does not write (e.g. a refiner/
 * trained for the model, a zoo.json) into `staging`, so replacing the folder keeps them.
 * Returns their names.
 */
async function carryOver(dir: string, staging: string): Promise<string[]> {
  let existing: string[];
  try {
    existing = await readdir(dir);
  } catch {
    return [];
  }
  const written = new Set(await readdir(staging));
  const kept = existing.filter((name) => !written.has(name));
  for (const name of kept) await rename(join(dir, name), join(staging, name));
  return kept;
}

/** The text encoders' model.onnx bytes of an existing pipeline folder, by component. */
export async function readTextEncoders(dir: string, family: SDFamily): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const spec of family.textEncoders) {
    const file = join(dir, spec.component, 'model.onnx');
    try {
      out.set(spec.component, new Uint8Array(await readFile(file)));
    } catch (error) {
      throw new ModelLoadError(file, 'expected the text encoder the training encoded its captions with', {
        cause: error,
      });
    }
  }
  return out;
}
