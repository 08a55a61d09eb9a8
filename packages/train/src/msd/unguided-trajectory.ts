import { type DenoiserSpec, runPasses, runStoppedTrajectory, scale, tensor } from '@noiserefine/core';
import type { TrainingModel } from '../training-model';

export interface UnguidedEnd {
  /** x̂_0 = Denoise(x̂_T, c), unguided, N steps. */
  values: Float32Array;
  /**
   * d x̂_0 / d x̂_T with the denoiser's output held fixed: ∏ a_t of the steps (paper Eq. 5)
   * times the scheduler's initNoiseSigma, which scales the start of the trajectory.
   */
  jacobianScale: number;
}

/**
 * Runs the unguided N-step trajectory from unscaled noise values on the inference backend
 * (the frozen denoiser, forward only), as both MSD and validation need it.
 */
export async function unguidedEnd(
  model: TrainingModel,
  spec: DenoiserSpec,
  noise: Float32Array,
  batch: number,
  numInferenceSteps: number,
): Promise<UnguidedEnd> {
  const scheduler = model.scheduler.clone();
  scheduler.setTimesteps(numInferenceSteps);
  const sigma = scheduler.initNoiseSigma;
  const x = tensor(noise, [batch, ...model.latentShape], model.backend.tensors);
  const start = scale(x, sigma);
  x.dispose();
  try {
    const trajectory = await runStoppedTrajectory(
      model.scheduler,
      async (sample, t) => (await runPasses(spec, sample, t, ['cond'])).cond,
      start,
      numInferenceSteps,
    );
    const values = await trajectory.final.data();
    trajectory.final.dispose();
    return { values, jacobianScale: trajectory.jacobianScale * sigma };
  } finally {
    start.dispose();
  }
}
