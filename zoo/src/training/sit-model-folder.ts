import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelLoadError, SiTFlowScheduler } from '@noiserefine/core';
import { type SiTNetworkConfig, sitTransformerConfig } from '../networks/sit';

/** Where the zoo ships its trained SiT. */
export const TINY_SIT_DIR = fileURLToPath(new URL('../../models/tiny-sit', import.meta.url));

export interface SiTModelFolderOptions {
  /** transformer/model.onnx bytes. */
  transformer: Uint8Array;
  network: SiTNetworkConfig;
  /** The default guidance scale written to transformer/config.json. */
  guidanceScale: number;
  /** A folder holding vae_encoder/ and vae_decoder/ (the 0.18215-scaled patch autoencoder). */
  vaeDir: string;
  /** Written as training.json: how the weights were made. */
  training: Record<string, unknown>;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** model_index.json of a SiT folder: the pipeline class and its components, diffusers-style. */
export function sitModelIndex(): Record<string, unknown> {
  return {
    _class_name: 'SiTPipeline',
    _noiserefine_version: '0.1.0',
    transformer: ['noiserefine', 'SiT'],
    scheduler: ['noiserefine', 'SiTFlowScheduler'],
    vae_decoder: ['diffusers', 'AutoencoderKL'],
    vae_encoder: ['diffusers', 'AutoencoderKL'],
  };
}

/**
 * Writes a folder SiTPipeline.fromPretrained loads: model_index.json, transformer/
 * (model.onnx + config.json), scheduler/scheduler_config.json (20-step Euler by default),
 * vae_decoder/ and vae_encoder/ copied from `vaeDir`, and training.json. The folder is
 * assembled next to `dir` and renamed into place, so a reader never sees half of it; other
 * entries of an earlier export (a refiner, zoo.json) are kept.
 */
export async function writeSiTModelFolder(dir: string, options: SiTModelFolderOptions): Promise<void> {
  const staging = join(dirname(dir), `.${basename(dir)}.staging`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, 'transformer'), { recursive: true });
  await mkdir(join(staging, 'scheduler'), { recursive: true });
  for (const part of ['vae_decoder', 'vae_encoder']) {
    const source = join(options.vaeDir, part);
    try {
      await readFile(join(source, 'config.json'));
    } catch (error) {
      throw new ModelLoadError(source, 'expected a VAE component folder with config.json and model.onnx', {
        cause: error,
      });
    }
    await cp(source, join(staging, part), { recursive: true });
  }
  await writeFile(join(staging, 'model_index.json'), json(sitModelIndex()));
  await writeFile(join(staging, 'transformer', 'model.onnx'), options.transformer);
  await writeFile(
    join(staging, 'transformer', 'config.json'),
    json(sitTransformerConfig(options.network, options.guidanceScale)),
  );
  await writeFile(
    join(staging, 'scheduler', 'scheduler_config.json'),
    json(new SiTFlowScheduler({ solver: 'euler' }).toConfig()),
  );
  await writeFile(join(staging, 'training.json'), json(options.training));
  // What others added to an earlier export (a refiner/, zoo.json) moves over unchanged.
  const written = new Set(await readdir(staging));
  const previous = await readdir(dir).catch(() => [] as string[]);
  for (const entry of previous) {
    if (!written.has(entry)) await rename(join(dir, entry), join(staging, entry));
  }
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir);
}

/** Rewrites the default guidance scale of an exported folder (after a sweep). */
export async function setGuidanceScale(dir: string, guidanceScale: number): Promise<void> {
  const file = join(dir, 'transformer', 'config.json');
  const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFile(file, json({ ...config, guidance_scale: guidanceScale }));
}
