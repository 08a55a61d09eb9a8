import {
  disposeAll,
  linearCombination,
  mean,
  type Scheduler,
  square,
  stopGradient,
  sub,
  type Tensor,
  trajectoryJacobianScale,
} from '@noiserefine/core';
import type { SyncDenoise } from './tfjs-denoiser';

export interface TrajectoryEnd {
  /** x̂_0. */
  final: Tensor;
  /** d x̂_0 / d x̂_T with every denoiser output held fixed (MSD's Jacobian, a scalar times I). */
  jacobianScale: number;
}

/**
 * The unguided N-step trajectory from `start` (already scaled by initNoiseSigma), run
 * synchronously so a tape records it. `stopDenoiser` detaches each denoiser output, which is
 * MSD's trajectory (paper Eq. 4–5); without it this is the full-gradient trajectory (Eq. 3).
 * Intermediates are released as soon as the step that needs them has run; inside a tape,
 * tfjs keeps what the backward pass needs.
 */
export function runTrajectory(
  scheduler: Scheduler,
  denoise: SyncDenoise,
  start: Tensor,
  numInferenceSteps: number,
  options: { stopDenoiser?: boolean; guidanceScale?: number } = {},
): TrajectoryEnd {
  const s = scheduler.clone();
  s.setTimesteps(numInferenceSteps);
  const w = options.guidanceScale ?? 1;
  const forms = [];
  let x = start;
  for (const t of s.timesteps) {
    const input = s.scaleModelInput(x, t);
    let out = denoise(input, t, 'cond');
    if (w !== 1) {
      // CFG, u + w·(c − u): used for the guided targets only.
      const uncond = denoise(input, t, 'uncond');
      const guided = linearCombination([
        [1 - w, uncond],
        [w, out],
      ]);
      disposeAll(uncond, out);
      out = guided;
    }
    if (options.stopDenoiser) {
      const frozen = stopGradient(out);
      out.dispose();
      out = frozen;
    }
    forms.push(s.linearForm(t));
    const { prevSample, predOriginalSample } = s.step(out, t, x);
    disposeAll(out, predOriginalSample, input === x ? undefined : input, x === start ? undefined : x);
    x = prevSample;
  }
  return { final: x, jacobianScale: trajectoryJacobianScale(forms) };
}

/** mean((a − b)²), the paper's L2 distance as the trainer uses it. */
export function meanSquaredError(a: Tensor, b: Tensor): Tensor {
  const diff = sub(a, b);
  const sq = square(diff);
  const out = mean(sq);
  disposeAll(diff, sq);
  return out;
}
