import { UnsupportedOptionError } from '../errors';
import { ModelFolder } from './model-folder';
import { readModelIndex } from './model-index';
import type { PipelineLoadOptions } from './pipeline-common';
import { SiTPipeline } from './sit-pipeline';
import { StableDiffusionPipeline } from './stable-diffusion-pipeline';
import { StableDiffusionXLPipeline } from './stable-diffusion-xl-pipeline';

export type AnyPipeline = SiTPipeline | StableDiffusionPipeline | StableDiffusionXLPipeline;

const PIPELINES = {
  SiTPipeline,
  StableDiffusionPipeline,
  StableDiffusionXLPipeline,
  // optimum names its ONNX pipelines this way; the folders are the same.
  ORTStableDiffusionPipeline: StableDiffusionPipeline,
  ORTStableDiffusionXLPipeline: StableDiffusionXLPipeline,
  OnnxStableDiffusionPipeline: StableDiffusionPipeline,
} as const;

/** Loads any supported pipeline folder, dispatching on `model_index.json`'s `_class_name`. */
export const DiffusionPipeline = {
  async fromPretrained(dir: string, options: PipelineLoadOptions): Promise<AnyPipeline> {
    const index = await readModelIndex(new ModelFolder(dir));
    const Pipeline = PIPELINES[index.className as keyof typeof PIPELINES];
    if (!Pipeline) {
      throw new UnsupportedOptionError('pipeline class', index.className, Object.keys(PIPELINES), {
        context: `${dir}/model_index.json`,
      });
    }
    return Pipeline.fromPretrained(dir, options);
  },
};
