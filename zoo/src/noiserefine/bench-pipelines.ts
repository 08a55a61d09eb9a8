import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AnyPipeline,
  type Model,
  SiTPipeline,
  StableDiffusionPipeline,
  StableDiffusionXLPipeline,
} from '@noiserefine/core';
import {
  makePerturbedAttentionModel,
  encodeModel,
  getMetadata,
  PERTURBED_ATTENTION_METADATA_KEY,
} from '@noiserefine/onnx';

/**
 * The same pipeline with PAG's perturbed denoiser attached. The components are shared with
 * `pipeline`, so dispose only `pipeline` and the perturbed model, never the result.
 */
export function withPerturbedDenoiser(pipeline: AnyPipeline, perturbed: Model): AnyPipeline {
  if (pipeline instanceof SiTPipeline) {
    const p = pipeline;
    return new SiTPipeline(
      p.backend,
      p.transformer,
      p.vaeDecoder,
      p.scheduler,
      p.config,
      p.vaeScalingFactor,
      perturbed,
    );
  }
  if (pipeline instanceof StableDiffusionXLPipeline) {
    const p = pipeline;
    return new StableDiffusionXLPipeline(
      p.backend,
      p.tokenizer,
      p.tokenizer2,
      p.textEncoder,
      p.textEncoder2,
      p.unet,
      p.vaeDecoder,
      p.scheduler,
      p.geometry,
      p.forceZerosForEmptyPrompt,
      perturbed,
    );
  }
  const p = pipeline as StableDiffusionPipeline;
  return new StableDiffusionPipeline(
    p.backend,
    p.tokenizer,
    p.textEncoder,
    p.unet,
    p.vaeDecoder,
    p.scheduler,
    p.geometry,
    perturbed,
  );
}

export interface PerturbedDenoiser {
  model: Model;
  /** The self-attention layers whose maps were replaced by the identity. */
  layers: string[];
}

/**
 * Loads PAG's perturbed variant of a pipeline folder's denoiser (transformer/ or unet/) on the
 * pipeline's backend, with the transform's default layers ('mid' for UNets, 'blocks.1' for
 * transformers) unless `appliedLayers` is given.
 */
export async function loadPerturbedDenoiser(
  dir: string,
  pipeline: AnyPipeline,
  appliedLayers?: readonly string[],
): Promise<PerturbedDenoiser> {
  const component = pipeline instanceof SiTPipeline ? 'transformer' : 'unet';
  const bytes = new Uint8Array(await readFile(join(dir, component, 'model.onnx')));
  const proto = makePerturbedAttentionModel(bytes, appliedLayers ? { appliedLayers } : {});
  const layers = JSON.parse(getMetadata(proto)[PERTURBED_ATTENTION_METADATA_KEY] ?? '[]') as string[];
  return { model: await pipeline.backend.loadModel(encodeModel(proto)), layers };
}
