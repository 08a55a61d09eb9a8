import {
  disposeAll,
  InvalidArgumentError,
  msdGradient,
  msdLoss,
  type Scheduler,
  scale,
  type Tensor,
} from '@noiserefine/core';
import { isTfjsTensor, type TfjsBackend, valueAndGrads } from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import type { SyncDenoise } from './tfjs-denoiser';
import { meanSquaredError, runTrajectory } from './trajectories';

/** How the MSD gradient relates to the full back-propagated one. */
export interface GradientComparison {
  /** cos(∇_full, ∇_MSD): 1 when the two point the same way. */
  cosine: number;
  /** ⟨∇_full, ∇_MSD⟩ / ‖∇_MSD‖²: the paper's k in ∇_full ≈ k·∇_MSD (Prop. 2). */
  projection: number;
  fullNorm: number;
  msdNorm: number;
  /** The loss at this point (the same forward pass for both). */
  loss: number;
}

/** Cosine and projection of two gradients given as lists of arrays (concatenated). */
export function compareGradients(
  full: readonly ArrayLike<number>[],
  msd: readonly ArrayLike<number>[],
  loss: number,
): GradientComparison {
  if (full.length !== msd.length || full.some((f, i) => f.length !== (msd[i] as ArrayLike<number>).length)) {
    throw new InvalidArgumentError(
      `compareGradients: expected gradients of the same sizes, got [${full.map((f) => f.length).join(', ')}] and [${msd.map((m) => m.length).join(', ')}]`,
    );
  }
  let dot = 0;
  let ff = 0;
  let mm = 0;
  full.forEach((f, k) => {
    const m = msd[k] as ArrayLike<number>;
    for (let i = 0; i < f.length; i++) {
      const a = f[i] as number;
      const b = m[i] as number;
      dot += a * b;
      ff += a * a;
      mm += b * b;
    }
  });
  const denominator = Math.sqrt(ff) * Math.sqrt(mm);
  return {
    cosine: denominator > 0 ? dot / denominator : 0,
    projection: mm > 0 ? dot / mm : 0,
    fullNorm: Math.sqrt(ff),
    msdNorm: Math.sqrt(mm),
    loss,
  };
}

/** What both gradients are taken through: the sampler, the denoiser on tfjs, N, the target. */
export interface TrajectorySetup {
  tfjs: TfjsBackend;
  scheduler: Scheduler;
  denoise: SyncDenoise;
  numInferenceSteps: number;
  /** x0_guide, on tfjs. */
  target: Tensor;
}

function tfOf(t: Tensor): tf.Tensor {
  if (!isTfjsTensor(t))
    throw new InvalidArgumentError(`expected a tfjs tensor, got one from "${t.backend.name}"`);
  return t.tensor;
}

function startOf(setup: TrajectorySetup, refined: Tensor): Tensor {
  const s = setup.scheduler.clone();
  s.setTimesteps(setup.numInferenceSteps);
  return scale(refined, s.initNoiseSigma);
}

/** The stopped trajectory's end from `refined` (nothing recorded), with d x̂_0/d x̂_T including initNoiseSigma. */
export function stoppedEnd(
  setup: TrajectorySetup,
  refined: Tensor,
): { final: Tensor; jacobianScale: number } {
  const s = setup.scheduler.clone();
  s.setTimesteps(setup.numInferenceSteps);
  const sigma = s.initNoiseSigma;
  let end: { final: Tensor; jacobianScale: number } | undefined;
  const final = tf.tidy(() => {
    const start = startOf(setup, refined);
    end = runTrajectory(setup.scheduler, setup.denoise, start, setup.numInferenceSteps);
    return tfOf(end.final);
  });
  return { final: setup.tfjs.tensors.wrap(final), jacobianScale: (end?.jacobianScale ?? 1) * sigma };
}

/** Full-gradient loss of x̂_T (paper Eq. 3): MSE(Denoise(x̂_T), x0_guide), recorded end to end. */
export function fullLoss(setup: TrajectorySetup, refined: Tensor): Tensor {
  const start = startOf(setup, refined);
  const { final } = runTrajectory(setup.scheduler, setup.denoise, start, setup.numInferenceSteps);
  const loss = meanSquaredError(final, setup.target);
  disposeAll(start, final);
  return loss;
}

/**
 * ∇ w.r.t. x̂_T itself, full back-propagation vs MSD. MSD's is the closed form
 * 2·(∏ a_t)·(x̂_0 − x0_guide)/n (msdGradient); the full one differentiates through all N
 * denoiser calls.
 */
export async function compareInputGradients(
  setup: TrajectorySetup,
  refined: Tensor,
): Promise<GradientComparison> {
  const x = tf.variable(tfOf(refined).clone(), true);
  try {
    const { value, grads } = valueAndGrads(() => fullLoss(setup, setup.tfjs.tensors.wrap(x)), [x]);
    const full = (await (grads.get(x) as tf.Tensor).data()) as Float32Array;
    const loss = (await value.data())[0] as number;
    value.dispose();
    for (const g of grads.values()) g.dispose();
    const end = stoppedEnd(setup, refined);
    const msd = msdGradient(end, setup.target);
    const msdValues = await msd.data();
    disposeAll(msd, end.final);
    return compareGradients([full], [msdValues], loss);
  } finally {
    x.dispose();
  }
}

/** A refiner as the comparison sees it: x_T → x̂_T on tfjs, recorded, and its trainable variables. */
export interface DifferentiableRefiner {
  refine(noise: Tensor): Tensor;
  variables: ReadonlyMap<string, tf.Variable>;
}

async function gradientValues(grads: Map<tf.Variable, tf.Tensor>, order: readonly tf.Variable[]) {
  const out: Float32Array[] = [];
  for (const v of order) out.push((await (grads.get(v) as tf.Tensor).data()) as Float32Array);
  for (const g of grads.values()) g.dispose();
  return out;
}

/**
 * ∇ w.r.t. the refiner's parameters φ: the full gradient back-propagates through the N
 * denoiser calls and the refiner; MSD's (what MsdTrainer uses) runs the trajectory without a
 * tape and reaches φ through msdLoss's surrogate, i.e. through x̂_T alone.
 */
export async function compareParameterGradients(
  setup: TrajectorySetup,
  refiner: DifferentiableRefiner,
  noise: Tensor,
): Promise<GradientComparison> {
  const order = [...refiner.variables.values()];
  const full = valueAndGrads(() => {
    const refined = refiner.refine(noise);
    const loss = fullLoss(setup, refined);
    refined.dispose();
    return loss;
  }, order);
  const fullValues = await gradientValues(full.grads, order);
  const loss = (await full.value.data())[0] as number;
  full.value.dispose();

  const refinedValue = setup.tfjs.tensors.wrap(tf.tidy(() => tfOf(refiner.refine(noise))));
  const end = stoppedEnd(setup, refinedValue);
  refinedValue.dispose();
  const msd = valueAndGrads(() => msdLoss(refiner.refine(noise), end, setup.target), order);
  const msdValues = await gradientValues(msd.grads, order);
  msd.value.dispose();
  end.final.dispose();
  return compareGradients(fullValues, msdValues, loss);
}
