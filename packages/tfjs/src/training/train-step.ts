import type * as tf from '@tensorflow/tfjs-core';
import type { Optimizer } from './optimizers';
import { clipGradNorm, disposeGradients, type LossFunction, valueAndGrads } from './value-and-grads';

export interface TrainStepOptions {
  loss: LossFunction;
  optimizer: Optimizer;
  variables: Iterable<tf.Variable> | ReadonlyMap<string, tf.Variable>;
  /** Clips the global gradient norm (torch's clip_grad_norm_) when set. */
  maxGradNorm?: number;
}

export interface TrainStepResult {
  loss: number;
  learningRate: number;
  /** The gradient norm before clipping, when clipping was asked for. */
  gradNorm?: number;
}

/** One optimizer step: loss and gradients, optional clipping, the update; nothing leaks. */
export async function trainStep({
  loss,
  optimizer,
  variables,
  maxGradNorm,
}: TrainStepOptions): Promise<TrainStepResult> {
  const learningRate = optimizer.currentLearningRate;
  const { value, grads } = valueAndGrads(loss, variables);
  let applied = grads;
  let gradNorm: number | undefined;
  try {
    if (maxGradNorm !== undefined) {
      const clipped = clipGradNorm(grads, maxGradNorm);
      applied = clipped.grads;
      gradNorm = clipped.norm;
    }
    optimizer.step(applied);
    const [lossValue] = (await value.data()) as Float32Array;
    return { loss: lossValue as number, learningRate, ...(gradNorm === undefined ? {} : { gradNorm }) };
  } finally {
    value.dispose();
    disposeGradients(applied);
  }
}
