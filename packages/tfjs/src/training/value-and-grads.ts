import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, type Tensor } from '@noiserefine/core';
import { registerMissingGradients } from '../gradients/register-gradients';
import { TfjsTensor } from '../tensor/tfjs-tensor-backend';

/** Gradients by variable. */
export type Gradients = Map<tf.Variable, tf.Tensor>;

export interface ValueAndGrads {
  /** The loss (a scalar); owned by the caller. */
  readonly value: tf.Scalar;
  /** d loss / d variable for each requested variable; owned by the caller. */
  readonly grads: Gradients;
}

/** A loss written with tfjs ops or with core's API on tfjs tensors. */
export type LossFunction = () => tf.Tensor | Tensor;

function asScalar(loss: tf.Tensor | Tensor): tf.Scalar {
  const t = loss instanceof TfjsTensor ? loss.tensor : (loss as tf.Tensor);
  if (!(t instanceof tf.Tensor)) {
    throw new InvalidArgumentError(
      `the loss must be a tfjs tensor or a tensor of the tfjs backend, got one from "${(loss as Tensor).backend?.name}"`,
    );
  }
  if (t.size !== 1)
    throw new InvalidArgumentError(`the loss must be a scalar, got shape [${t.shape.join(', ')}]`);
  return (t.rank === 0 ? t : tf.reshape(t, [])) as tf.Scalar;
}

/**
 * Evaluates `loss` and its gradients with respect to `variables`. Everything the loss
 * function allocates is released; only the value and the gradients survive.
 */
export function valueAndGrads(
  loss: LossFunction,
  variables: Iterable<tf.Variable> | ReadonlyMap<string, tf.Variable>,
): ValueAndGrads {
  const list = [...(variables instanceof Map ? variables.values() : (variables as Iterable<tf.Variable>))];
  if (list.length === 0) throw new InvalidArgumentError('valueAndGrads needs at least one variable');
  // For engines set up without selectEngine (idempotent).
  registerMissingGradients();
  const { value, grads } = tf.variableGrads(() => asScalar(loss()), list);
  const byVariable: Gradients = new Map();
  for (const v of list) {
    const g = grads[v.name];
    // A variable the loss does not touch gets a zero gradient rather than none.
    byVariable.set(v, g ?? tf.zerosLike(v));
  }
  return { value, grads: byVariable };
}

/** Global L2 norm of the gradients. */
export function gradientNorm(grads: Gradients): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN([...grads.values()].map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/**
 * Scales the gradients so their global norm is at most `maxNorm` (torch's clip_grad_norm_);
 * returns the new gradients (the old ones are disposed) and the norm before clipping.
 */
export function clipGradNorm(grads: Gradients, maxNorm: number): { grads: Gradients; norm: number } {
  const normTensor = gradientNorm(grads);
  const norm = (normTensor.dataSync()[0] as number) ?? 0;
  normTensor.dispose();
  const coefficient = maxNorm / (norm + 1e-6);
  if (coefficient >= 1) return { grads, norm };
  const clipped: Gradients = new Map();
  for (const [v, g] of grads) {
    clipped.set(v, tf.mul(g, coefficient));
    g.dispose();
  }
  return { grads: clipped, norm };
}

export function disposeGradients(grads: Gradients): void {
  for (const g of grads.values()) g.dispose();
}
