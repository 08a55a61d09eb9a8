import * as tf from '@tensorflow/tfjs-core';

export interface GradientCheckResult {
  /** max |analytic − numeric| over all checked elements. */
  maxAbsError: number;
  /** maxAbsError relative to the largest numeric gradient magnitude (or 1 when that is smaller). */
  relativeError: number;
}

/** Deterministic pseudo-random values in [-1, 1) (a small LCG; tests need no seeding library). */
export function pseudoRandom(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    pseudoRandom(n, seed).map((v) => v * scale),
    shape,
    'float32',
  );
}

/** All indices below n, or `max` of them spread evenly (first and last included). */
function sampleIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.round((i * (n - 1)) / (max - 1)));
}

/**
 * Compares tf.grads of `f` (a scalar loss) with central differences, element by element.
 * `f` is evaluated in float32, so eps trades truncation error against rounding error.
 */
export function checkGradients(
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  eps = 1e-2,
  maxElements = Infinity,
): GradientCheckResult {
  const analytic = tf.tidy(() =>
    tf
      .grads(f)(inputs)
      .map((g) => g.dataSync().slice()),
  );
  let maxAbsError = 0;
  let maxNumeric = 0;
  inputs.forEach((input, k) => {
    const base = input.dataSync().slice();
    const evalAt = (i: number, delta: number): number =>
      tf.tidy(() => {
        const values = base.slice();
        values[i] = (values[i] as number) + delta;
        const args = inputs.map((x, j) => (j === k ? tf.tensor(values, input.shape, 'float32') : x));
        return f(...args).dataSync()[0] as number;
      });
    for (const i of sampleIndices(base.length, maxElements)) {
      const numeric = (evalAt(i, eps) - evalAt(i, -eps)) / (2 * eps);
      const err = Math.abs(numeric - ((analytic[k] as Float32Array)[i] as number));
      maxAbsError = Math.max(maxAbsError, err);
      maxNumeric = Math.max(maxNumeric, Math.abs(numeric));
    }
  });
  return { maxAbsError, relativeError: maxAbsError / Math.max(1, maxNumeric) };
}

/** Σ w ⊙ y with fixed pseudo-random weights: a scalar whose gradient exercises every element of y. */
export function weightedSum(y: tf.Tensor, seed = 7): tf.Scalar {
  return tf.sum(tf.mul(y, tf.tensor(pseudoRandom(y.size, seed), y.shape, 'float32'))) as tf.Scalar;
}

/**
 * Compares the gradients of `loss` with respect to `variables` (via tf.variableGrads) with
 * central differences obtained by nudging each variable element in place.
 */
export function checkVariableGradients(
  loss: () => tf.Scalar,
  variables: tf.Variable[],
  eps = 1e-2,
  maxElements = Infinity,
): GradientCheckResult & { perVariable: Map<string, number> } {
  const analytic = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(loss, variables);
    value.dispose();
    return variables.map((v) => (grads[v.name] as tf.Tensor).dataSync().slice());
  });
  let maxAbsError = 0;
  let maxNumeric = 0;
  const perVariable = new Map<string, number>();
  variables.forEach((variable, k) => {
    const base = variable.dataSync().slice();
    const evalAt = (i: number, delta: number): number => {
      const values = base.slice();
      values[i] = (values[i] as number) + delta;
      tf.tidy(() => variable.assign(tf.tensor(values, variable.shape, 'float32')));
      return tf.tidy(() => loss().dataSync()[0] as number);
    };
    let worst = 0;
    for (const i of sampleIndices(base.length, maxElements)) {
      const numeric = (evalAt(i, eps) - evalAt(i, -eps)) / (2 * eps);
      const err = Math.abs(numeric - ((analytic[k] as Float32Array)[i] as number));
      worst = Math.max(worst, err);
      maxNumeric = Math.max(maxNumeric, Math.abs(numeric));
    }
    tf.tidy(() => variable.assign(tf.tensor(base, variable.shape, 'float32')));
    perVariable.set(variable.name, worst);
    maxAbsError = Math.max(maxAbsError, worst);
  });
  return { maxAbsError, relativeError: maxAbsError / Math.max(1, maxNumeric), perVariable };
}
