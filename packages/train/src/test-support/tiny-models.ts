/**
 * The torch-exported fixture denoisers of @noiserefine/core as training models, for the
 * tests: tiny-sit (flow matching, 10 classes) and tiny-unet (an SD-like epsilon UNet with
 * 7×32 text states). tiny-unet ships without a text encoder, so its prompt embeddings here
 * are Gaussian draws seeded from the prompt's characters: fixed per prompt, different
 * between prompts, which is all conditioning needs in a test.
 */
import { readFileSync } from 'node:fs';
import { type Backend, DDIMScheduler, Generator, SiTFlowScheduler, tensor } from '@noiserefine/core';
import { fixturePath } from '@noiserefine/core/testing';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import { sitTrainingModel, type TrainingModel, textTrainingModel } from '../training-model';

export const SD_SCHEDULER_CONFIG = {
  betaSchedule: 'scaled_linear' as const,
  betaStart: 0.00085,
  betaEnd: 0.012,
  clipSample: false,
  setAlphaToOne: false,
  stepsOffset: 1,
};

export function fixtureBytes(name: 'tiny-sit' | 'tiny-unet'): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

export async function tinySiT(backend: Backend = onnxruntimeNode()): Promise<TrainingModel> {
  return sitTrainingModel({
    backend,
    denoiserBytes: fixtureBytes('tiny-sit'),
    scheduler: new SiTFlowScheduler(),
    latentShape: [4, 8, 8],
    numClasses: 10,
    baseModel: 'tiny-sit',
  });
}

function promptSeed(prompt: string): number {
  let h = 2166136261;
  for (const ch of prompt) h = Math.imul(h ^ (ch.codePointAt(0) as number), 16777619) >>> 0;
  return h;
}

export async function tinyUnet(backend: Backend = onnxruntimeNode()): Promise<TrainingModel> {
  const embed = (prompts: readonly string[]) =>
    tensor(
      Float32Array.from(prompts.flatMap((p) => Array.from(new Generator(promptSeed(p)).randnValues(7 * 32)))),
      [prompts.length, 7, 32],
      backend.tensors,
    );
  return textTrainingModel({
    family: 'stable-diffusion',
    backend,
    denoiserBytes: fixtureBytes('tiny-unet'),
    scheduler: new DDIMScheduler(SD_SCHEDULER_CONFIG),
    latentShape: [4, 8, 8],
    baseModel: 'tiny-unet',
    encodePrompts: async (prompts) => ({
      cond: { encoder_hidden_states: embed(prompts) },
      uncond: { encoder_hidden_states: embed(prompts.map(() => '')) },
    }),
  });
}
