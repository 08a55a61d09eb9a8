import { type AnyPipeline, InvalidConfigError, ModelFolder, SiTPipeline } from '@noiserefine/core';

/**
 * Zoo metadata beside a model's diffusers files: what diffusers keeps nowhere for
 * text-to-image folders (SD pipelines take the guidance scale as an argument only).
 */
export const ZOO_METADATA_FILE = 'zoo.json';

export interface ZooModelMetadata {
  /** The guidance scale the model is meant to be sampled with (chosen by a sweep). */
  guidance_scale?: number;
  [key: string]: unknown;
}

export interface DefaultGuidance {
  guidanceScale: number;
  /** The file the value was read from. */
  source: string;
}

/** The folder's zoo.json, or undefined when it has none. */
export async function readZooMetadata(dir: string): Promise<ZooModelMetadata | undefined> {
  const folder = new ModelFolder(dir);
  if (!(await folder.has(ZOO_METADATA_FILE))) return undefined;
  return folder.readJson<ZooModelMetadata>(ZOO_METADATA_FILE);
}

/**
 * A model's default guidance scale: `zoo.json`'s guidance_scale when present, else for
 * SiT `transformer/config.json`'s guidance_scale (which the pipeline has read). A
 * text-to-image folder without zoo.json has no default of its own: that is an error,
 * not diffusers' 7.5, which means nothing for a tiny model.
 */
export async function defaultGuidanceScale(dir: string, pipeline: AnyPipeline): Promise<DefaultGuidance> {
  const folder = new ModelFolder(dir);
  const metadata = await readZooMetadata(dir);
  const value = metadata?.guidance_scale;
  if (value !== undefined) {
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new InvalidConfigError('guidance_scale', 'a number ≥ 0', value, {
        source: folder.resolve(ZOO_METADATA_FILE),
      });
    }
    return { guidanceScale: value, source: folder.resolve(ZOO_METADATA_FILE) };
  }
  if (pipeline instanceof SiTPipeline) {
    return {
      guidanceScale: pipeline.config.guidanceScale,
      source: folder.resolve('transformer/config.json'),
    };
  }
  throw new InvalidConfigError(
    'guidance_scale',
    'a number ≥ 0 (or pass a guidance scale explicitly)',
    undefined,
    {
      source: folder.resolve(ZOO_METADATA_FILE),
    },
  );
}
