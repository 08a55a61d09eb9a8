export { DiffusionPipeline, type AnyPipeline } from './diffusion-pipeline';
export { SiTPipeline, type SiTGenerateOptions, type SiTTransformerConfig } from './sit-pipeline';
export {
  StableDiffusionPipeline,
  type TextToImageOptions,
  type LatentGeometry,
} from './stable-diffusion-pipeline';
export { StableDiffusionXLPipeline, type SDXLGenerateOptions } from './stable-diffusion-xl-pipeline';
export type { CommonGenerateOptions, GenerateResult, PipelineLoadOptions } from './pipeline-common';
export { type RgbImage, decodeLatents, tensorToImages } from './images';
export { ModelFolder } from './model-folder';
export { type ModelIndex, readModelIndex } from './model-index';
export { type DenoiserSpec, runPasses } from './pass-runner';
export { type ProgressEvent, type SamplingLoopOptions, runSamplingLoop } from './sampling-loop';
export { idsFeed, requireInputs, scalarFeed } from './model-io';
