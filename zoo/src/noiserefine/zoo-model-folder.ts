import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidConfigError, ModelFolder } from '@noiserefine/core';
import { readZooMetadata, ZOO_METADATA_FILE } from '../evaluator/model-defaults';

/** What the refiner tooling needs to know about a zoo model folder without loading it. */
export interface ZooModelInfo {
  dir: string;
  /** model_index.json's `_class_name`. */
  pipelineClass: string;
  conditionKind: 'label' | 'prompt';
  /** The denoiser's component folder: transformer (SiT) or unet. */
  denoiserComponent: 'transformer' | 'unet';
  /** The default guidance scale and the file it came from. */
  guidanceScale: number;
  guidanceSource: string;
}

/** Why a folder is not usable yet, or undefined when it is (model_index.json, the denoiser, a default guidance scale). */
export function zooModelMissing(dir: string): string | undefined {
  if (!existsSync(join(dir, 'model_index.json'))) return `${dir} has no model_index.json (not trained yet?)`;
  const sit = existsSync(join(dir, 'transformer', 'model.onnx'));
  if (!sit && !existsSync(join(dir, 'unet', 'model.onnx'))) {
    return `${dir} has neither transformer/model.onnx nor unet/model.onnx`;
  }
  if (!sit && !existsSync(join(dir, ZOO_METADATA_FILE))) {
    return `${dir} has no ${ZOO_METADATA_FILE} (its default guidance scale is written after export)`;
  }
  return undefined;
}

/** Reads a zoo model folder's pipeline class, conditioning kind and default guidance scale. */
export async function readZooModelInfo(dir: string): Promise<ZooModelInfo> {
  const folder = new ModelFolder(dir);
  const index = await folder.readJson<Record<string, unknown>>('model_index.json');
  const pipelineClass = String(index._class_name ?? '');
  const isSiT = pipelineClass === 'SiTPipeline';
  const metadata = await readZooMetadata(dir);
  let guidanceScale = metadata?.guidance_scale;
  let guidanceSource = folder.resolve(ZOO_METADATA_FILE);
  if (guidanceScale === undefined && isSiT) {
    const config = await folder.readJson<Record<string, unknown>>('transformer/config.json');
    guidanceScale = Number(config.guidance_scale ?? 4);
    guidanceSource = folder.resolve('transformer/config.json');
  }
  if (typeof guidanceScale !== 'number' || !(guidanceScale >= 0)) {
    throw new InvalidConfigError('guidance_scale', 'a number ≥ 0', guidanceScale, { source: guidanceSource });
  }
  return {
    dir,
    pipelineClass,
    conditionKind: isSiT ? 'label' : 'prompt',
    denoiserComponent: isSiT ? 'transformer' : 'unet',
    guidanceScale,
    guidanceSource,
  };
}

/** sha256 of the denoiser's model.onnx. */
export async function denoiserSha256(info: ZooModelInfo): Promise<string> {
  const bytes = await readFile(join(info.dir, info.denoiserComponent, 'model.onnx'));
  return createHash('sha256').update(bytes).digest('hex');
}
