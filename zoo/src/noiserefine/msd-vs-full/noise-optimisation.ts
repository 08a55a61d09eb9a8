import { disposeAll, InvalidArgumentError, msdGradient, type Tensor } from '@noiserefine/core';
import { Adam, isTfjsTensor, valueAndGrads } from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { fullLoss, stoppedEnd, type TrajectorySetup } from './gradient-comparison';
import { meanSquaredError } from './trajectories';

export type GradientMode = 'msd' | 'full';

export interface NoiseOptimisationOptions {
  mode: GradientMode;
  /** Adam steps. */
  steps: number;
  learningRate: number;
}

export interface NoiseOptimisationCurve {
  mode: GradientMode;
  /** MSE(Denoise(x), target) before each update, and after the last (steps + 1 values). */
  loss: number[];
  /** ‖∇‖ of each update's gradient. */
  gradNorm: number[];
  /** rms(x − x_T) at the end: how far the noise moved. */
  finalDrift: number;
  seconds: number;
}

/**
 * Paper Fig. 6 / Fig. 35: optimises one noise x (starting at x_T) so that its unguided
 * N-step image matches a target, with MSD's gradient or the full back-propagated one; same
 * optimiser (Adam), learning rate and steps. Both curves record the true loss of x.
 */
export async function optimiseNoise(
  setup: TrajectorySetup,
  start: Tensor,
  options: NoiseOptimisationOptions,
): Promise<NoiseOptimisationCurve> {
  if (!isTfjsTensor(start)) {
    throw new InvalidArgumentError(
      `optimiseNoise: expected a tfjs tensor, got one from "${start.backend.name}"`,
    );
  }
  if (!Number.isInteger(options.steps) || options.steps < 1) {
    throw new InvalidArgumentError(`optimiseNoise: expected a positive step count, got ${options.steps}`);
  }
  const started = performance.now();
  const x = tf.variable(start.tensor.clone(), true);
  const optimizer = new Adam({ lr: options.learningRate });
  const wrap = () => setup.tfjs.tensors.wrap(x);
  const loss: number[] = [];
  const gradNorm: number[] = [];
  const record = async (grad: tf.Tensor) => {
    const norm = tf.tidy(() => tf.norm(grad));
    gradNorm.push((await norm.data())[0] as number);
    norm.dispose();
  };
  try {
    for (let step = 0; step < options.steps; step++) {
      if (options.mode === 'full') {
        const { value, grads } = valueAndGrads(() => fullLoss(setup, wrap()), [x]);
        loss.push((await value.data())[0] as number);
        await record(grads.get(x) as tf.Tensor);
        optimizer.step(grads);
        value.dispose();
        for (const g of grads.values()) g.dispose();
      } else {
        // The same forward pass as the full mode, run without a tape; MSD's gradient in closed form.
        const end = stoppedEnd(setup, wrap());
        const value = meanSquaredError(end.final, setup.target);
        loss.push((await value.data())[0] as number);
        const g = msdGradient(end, setup.target);
        const grad = (g as typeof start).tensor;
        await record(grad);
        optimizer.step(new Map([[x, grad]]));
        disposeAll(value, g, end.final);
      }
    }
    const last = tf.tidy(() => (fullLoss(setup, wrap()) as typeof start).tensor);
    loss.push((await last.data())[0] as number);
    last.dispose();
    const drift = tf.tidy(() => tf.sqrt(tf.mean(tf.square(tf.sub(x, start.tensor)))));
    const finalDrift = (await drift.data())[0] as number;
    drift.dispose();
    return { mode: options.mode, loss, gradNorm, finalDrift, seconds: (performance.now() - started) / 1000 };
  } finally {
    optimizer.dispose();
    x.dispose();
  }
}
