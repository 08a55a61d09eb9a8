/**
 * The sampling loop the browser test runs in a page and in Node: DDIM over a
 * denoiser through the Backend/Model API, as an app would write it.
 */
import { type Backend, DDIMScheduler, Generator, type ModelSource, type Tensor } from '@noiserefine/core';

export interface DdimLoopOptions {
  steps: number;
  seed: number;
  shape: readonly number[];
}

export interface DdimLoopResult {
  latent: Float32Array;
  executionProviders: readonly string[];
}

export async function runDdimLoop(
  backend: Backend,
  source: ModelSource,
  options: DdimLoopOptions,
): Promise<DdimLoopResult> {
  const model = await backend.loadModel(source);
  const scheduler = new DDIMScheduler({
    betaSchedule: 'scaled_linear',
    betaStart: 0.00085,
    betaEnd: 0.012,
    clipSample: false,
    setAlphaToOne: false,
    stepsOffset: 1,
  });
  scheduler.setTimesteps(options.steps);
  let latent: Tensor = new Generator(options.seed).randn(options.shape, backend.tensors);
  for (const t of scheduler.timesteps) {
    const timestep = { dtype: 'float32' as const, data: Float32Array.of(t), shape: [] };
    const { out_sample: eps } = await model.run({ sample: latent, timestep });
    const { prevSample, predOriginalSample } = scheduler.step(eps!, t, latent);
    for (const x of [latent, eps!, predOriginalSample]) x.dispose();
    latent = prevSample;
  }
  const executionProviders = (model as { executionProviders?: readonly string[] }).executionProviders ?? [];
  await model.dispose();
  return { latent: await latent.data(), executionProviders };
}
