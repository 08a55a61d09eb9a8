import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BackendSpec,
  DiffusionPipeline,
  decodeLatents,
  disposeAll,
  type GuidancePass,
  ModelLoadError,
  SiTPipeline,
  StableDiffusionXLPipeline,
  UnsupportedOptionError,
} from '@noiserefine/core';
import { TrainingModel } from './training-model';

export interface LoadTrainingModelOptions {
  /** Runs the frozen models: an adapter object or its name (default 'onnxruntime-node'). */
  backend?: BackendSpec;
  /** Recorded as the refiner's base model (default: the folder's name). */
  baseModel?: string;
  onWarning?: (message: string) => void;
}

async function denoiserBytes(dir: string, component: string): Promise<Uint8Array> {
  const external = join(dir, component, 'model.onnx_data');
  if (
    await access(external).then(
      () => true,
      () => false,
    )
  ) {
    throw new UnsupportedOptionError(
      'denoiser with external data',
      external,
      'a single model.onnx holding its weights (refiner graphs are made from the weights in memory)',
    );
  }
  const file = join(dir, component, 'model.onnx');
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw new ModelLoadError(file, `cannot read the denoiser (${String(error)})`, { cause: error });
  }
}

function folderName(dir: string): string {
  return (
    dir
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() || dir
  );
}

/**
 * Loads a pipeline folder (`model_index.json`: SiT, Stable Diffusion 1.x/2.x or XL) as a
 * training model: its denoiser, scheduler, conditioning (labels, or prompts through its text
 * encoders) and VAE decoder for validation images, all on the inference backend.
 */
export async function loadTrainingModel(
  dir: string,
  options: LoadTrainingModelOptions = {},
): Promise<TrainingModel> {
  const pipeline = await DiffusionPipeline.fromPretrained(dir, {
    backend: options.backend ?? 'onnxruntime-node',
    onWarning: options.onWarning,
  });
  const baseModel = options.baseModel ?? folderName(dir);
  const dispose = () => pipeline.dispose();
  if (pipeline instanceof SiTPipeline) {
    const size = pipeline.config.inputSize;
    const probe = pipeline.denoiserSpec([0]);
    return new TrainingModel({
      family: 'sit',
      baseModel,
      backend: pipeline.backend,
      denoiser: pipeline.transformer,
      denoiserBytes: await denoiserBytes(dir, 'transformer'),
      sampleInput: probe.sampleInput,
      timestepInput: probe.timestepInput,
      output: probe.output,
      timestepValue: probe.timestepValue,
      scheduler: pipeline.scheduler,
      latentShape: [pipeline.config.inChannels, size, size],
      conditionKind: 'label',
      cfgChannels: pipeline.config.cfgChannels ?? undefined,
      checkCondition: (c) => {
        pipeline.checkLabels('label' in c ? c.label : Number.NaN);
      },
      conditioning: async (conditions) => {
        const spec = pipeline.denoiserSpec(conditions.map((c) => ('label' in c ? c.label : 0)));
        return { conditioning: (pass: GuidancePass) => spec.conditioning(pass), dispose: () => {} };
      },
      decode: (latents) => decodeLatents(pipeline.vaeDecoder, latents, pipeline.vaeScalingFactor),
      dispose,
    });
  }
  const geometry = pipeline.geometry;
  const [channels, height, width] = [geometry.inChannels, geometry.sampleSize, geometry.sampleSize];
  const isXL = pipeline instanceof StableDiffusionXLPipeline;
  const unet = pipeline.unet;
  const family = isXL ? 'stable-diffusion-xl' : 'stable-diffusion';
  const decode = (latents: Parameters<typeof decodeLatents>[1]) =>
    decodeLatents(pipeline.vaeDecoder, latents, geometry.scalingFactor);
  return new TrainingModel({
    family,
    baseModel,
    backend: pipeline.backend,
    denoiser: unet,
    denoiserBytes: await denoiserBytes(dir, 'unet'),
    sampleInput: 'sample',
    timestepInput: 'timestep',
    output: pipeline.unetOutput,
    scheduler: pipeline.scheduler,
    latentShape: [channels, height, width],
    conditionKind: 'prompt',
    conditioning: async (conditions) => {
      const prompts = conditions.map((c) => ('prompt' in c ? c.prompt : ''));
      const negatives = prompts.map(() => '');
      if (pipeline instanceof StableDiffusionXLPipeline) {
        const pixels = [height * geometry.vaeScaleFactor, width * geometry.vaeScaleFactor];
        const embeddings = await pipeline.encodePrompts(prompts, negatives, [...pixels, 0, 0, ...pixels]);
        const spec = pipeline.denoiserSpec(embeddings);
        return {
          conditioning: (pass: GuidancePass) => spec.conditioning(pass),
          dispose: () => disposeAll(...Object.values(embeddings)),
        };
      }
      const embeddings = await pipeline.encodePrompts(prompts, negatives);
      const spec = pipeline.denoiserSpec(embeddings);
      return {
        conditioning: (pass: GuidancePass) => spec.conditioning(pass),
        dispose: () => disposeAll(embeddings.cond, embeddings.uncond),
      };
    },
    decode,
    dispose,
  });
}
