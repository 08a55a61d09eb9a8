import { ShapeMismatchError } from '../errors';
import type { Scheduler } from '../schedulers/scheduler';
import {
  type Tensor,
  disposeAll,
  linearCombination,
  mean,
  shapesEqual,
  square,
  stopGradient,
  sub,
} from '../tensor/index';
import { trajectoryJacobianScale } from './trajectory-jacobian';

/** The denoiser as a function of (latent, timestep) → model output for the unguided pass. The trajectory owns (and disposes) what it returns. */
export type Denoise = (sample: Tensor, timestep: number) => Promise<Tensor> | Tensor;

export interface TrajectoryResult {
  /** x̂_0: the end of the unguided trajectory. Its value carries no gradient path. */
  final: Tensor;
  /** d x̂_0 / d x̂_T with the denoiser's gradient stopped (a scalar times I). */
  jacobianScale: number;
}

/**
 * Runs the unguided N-step trajectory from `start` with the denoiser's output
 * stopped from the gradient, recording each step's linear form. The scheduler is
 * cloned, so the caller's scheduler state is untouched.
 */
export async function runStoppedTrajectory(
  scheduler: Scheduler,
  denoise: Denoise,
  start: Tensor,
  numInferenceSteps: number,
): Promise<TrajectoryResult> {
  const s = scheduler.clone();
  s.setTimesteps(numInferenceSteps);
  const forms = [];
  let x = stopGradient(start);
  for (const t of s.timesteps) {
    const input = s.scaleModelInput(x, t);
    const out = await denoise(input, t);
    const frozen = stopGradient(out);
    forms.push(s.linearForm(t));
    const { prevSample, predOriginalSample } = s.step(frozen, t, x);
    disposeAll(out, frozen, predOriginalSample, input === x ? undefined : input, x);
    x = prevSample;
  }
  return { final: x, jacobianScale: trajectoryJacobianScale(forms) };
}

/**
 * The MSD surrogate of x̂_0: equal to `final` in value, with gradient `scale`·I
 * with respect to `refined` — x̂_0 ≈ scale·x̂_T + SG(x̂_0 − scale·x̂_T).
 */
export function msdSurrogate(refined: Tensor, final: Tensor, scale: number): Tensor {
  if (!shapesEqual(refined.shape, final.shape)) {
    throw new ShapeMismatchError(
      'MSD: the trajectory end must match the refined noise',
      [...refined.shape],
      [...final.shape],
    );
  }
  const offset = linearCombination([
    [1, final],
    [-scale, refined],
  ]);
  const frozen = stopGradient(offset);
  const out = linearCombination([
    [scale, refined],
    [1, frozen],
  ]);
  disposeAll(offset, frozen);
  return out;
}

/**
 * Multistep Score Distillation loss (paper Eq. 4-5): mean squared error in latent space
 * between the stopped unguided trajectory's end and the guided target. Its gradient
 * with respect to `refined` is 2·(∏ a_t)·(x̂_0 − x0_guide)/n, so only the refiner
 * is back-propagated and the denoiser runs forward only.
 */
export function msdLoss(refined: Tensor, trajectory: TrajectoryResult, target: Tensor): Tensor {
  if (!shapesEqual(target.shape, trajectory.final.shape)) {
    throw new ShapeMismatchError(
      'MSD: the guided target must match the latent shape',
      [...trajectory.final.shape],
      [...target.shape],
    );
  }
  const surrogate = msdSurrogate(refined, trajectory.final, trajectory.jacobianScale);
  const diff = sub(surrogate, target);
  const sq = square(diff);
  const loss = mean(sq);
  disposeAll(surrogate, diff, sq);
  return loss;
}

/** The closed form of the MSD gradient with respect to x̂_T, for checks: 2·scale·(x̂_0 − target)/n. */
export function msdGradient(trajectory: TrajectoryResult, target: Tensor): Tensor {
  const n = target.size;
  return linearCombination([
    [(2 * trajectory.jacobianScale) / n, trajectory.final],
    [(-2 * trajectory.jacobianScale) / n, target],
  ]);
}
