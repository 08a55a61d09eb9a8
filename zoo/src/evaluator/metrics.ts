// ml-matrix (already the zoo's linear-algebra dependency, see autoencoder/fit.ts) is a
// maintained, dependency-free port of JAMA. Its symmetric eigendecomposition (Householder
// tridiagonalisation + implicit QL) is what the Fréchet distance needs: both matrix square
// roots below are taken of symmetric positive semi-definite matrices, whose eigenvalues are
// real, so no complex Schur form (scipy's sqrtm) is needed.
import { InvalidArgumentError, NonFiniteError, ShapeMismatchError } from '@noiserefine/core';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** A Gaussian fitted to feature vectors: the statistics the Fréchet distance compares. */
export interface GaussianStats {
  dimension: number;
  /** How many vectors the statistics were estimated from. */
  count: number;
  mean: Float64Array;
  /** Row-major [dimension, dimension], the unbiased (N − 1) estimate, as numpy.cov. */
  covariance: Float64Array;
}

function checkFinite(what: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw new NonFiniteError(what, i, v);
  }
}

function rowCount(what: string, values: ArrayLike<number>, width: number): number {
  if (!Number.isInteger(width) || width < 1) {
    throw new InvalidArgumentError(`${what}: expected a positive integer row width, got ${width}`);
  }
  if (values.length % width !== 0) {
    throw new ShapeMismatchError(what, ['N', width], [values.length / width, width]);
  }
  return values.length / width;
}

/** Mean and unbiased covariance of `features`, row-major [count, dimension]. */
export function featureStatistics(features: ArrayLike<number>, dimension: number): GaussianStats {
  const count = rowCount('features', features, dimension);
  if (count < 2) {
    throw new InvalidArgumentError(`feature statistics: expected at least 2 vectors, got ${count}`);
  }
  checkFinite('features', features);
  const mean = new Float64Array(dimension);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < dimension; i++)
      mean[i] = (mean[i] as number) + (features[n * dimension + i] as number);
  }
  for (let i = 0; i < dimension; i++) mean[i] = (mean[i] as number) / count;
  const covariance = new Float64Array(dimension * dimension);
  const centred = new Float64Array(dimension);
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < dimension; i++)
      centred[i] = (features[n * dimension + i] as number) - (mean[i] as number);
    for (let i = 0; i < dimension; i++) {
      const ci = centred[i] as number;
      for (let j = i; j < dimension; j++) {
        covariance[i * dimension + j] =
          (covariance[i * dimension + j] as number) + ci * (centred[j] as number);
      }
    }
  }
  for (let i = 0; i < dimension; i++) {
    for (let j = i; j < dimension; j++) {
      const c = (covariance[i * dimension + j] as number) / (count - 1);
      covariance[i * dimension + j] = c;
      covariance[j * dimension + i] = c;
    }
  }
  return { dimension, count, mean, covariance };
}

function toMatrix(values: Float64Array, dimension: number): Matrix {
  return new Matrix(
    Array.from({ length: dimension }, (_, i) =>
      Array.from(values.subarray(i * dimension, (i + 1) * dimension)),
    ),
  );
}

/** Eigenvalues and eigenvectors of a symmetric matrix (made exactly symmetric first). */
function symmetricEigen(m: Matrix): { values: number[]; vectors: Matrix } {
  const symmetric = m.add(m.transpose()).mul(0.5);
  const evd = new EigenvalueDecomposition(symmetric, { assumeSymmetric: true });
  return { values: evd.realEigenvalues, vectors: evd.eigenvectorMatrix };
}

/**
 * tr((Σ₁Σ₂)^½) for covariances Σ₁, Σ₂. Σ₁Σ₂ is similar to S·Σ₂·S with S = Σ₁^½
 * (S⁻¹·(SSΣ₂)·S = SΣ₂S), so both have the same eigenvalues; S·Σ₂·S is symmetric PSD, so
 * its eigenvalues are real and non-negative (tiny negative ones are rounding, clamped).
 */
function traceSqrtProduct(a: Matrix, b: Matrix): number {
  const { values, vectors } = symmetricEigen(a);
  const rootValues = Matrix.diag(values.map((v) => Math.sqrt(Math.max(v, 0))));
  const sqrtA = vectors.mmul(rootValues).mmul(vectors.transpose());
  const inner = sqrtA.mmul(b).mmul(sqrtA);
  return symmetricEigen(inner).values.reduce((sum, v) => sum + Math.sqrt(Math.max(v, 0)), 0);
}

function checkStats(what: string, s: GaussianStats): void {
  if (s.mean.length !== s.dimension || s.covariance.length !== s.dimension * s.dimension) {
    throw new ShapeMismatchError(
      `${what} statistics`,
      `mean [${s.dimension}] and covariance [${s.dimension}, ${s.dimension}]`,
      [s.mean.length, s.covariance.length],
    );
  }
  checkFinite(`${what} mean`, s.mean);
  checkFinite(`${what} covariance`, s.covariance);
}

/**
 * Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂):
 * ‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2·tr((Σ₁Σ₂)^½), the quantity FID reports.
 */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.dimension !== b.dimension) {
    throw new InvalidArgumentError(
      `Fréchet distance: expected statistics of one dimension, got ${a.dimension} and ${b.dimension}`,
    );
  }
  checkStats('first', a);
  checkStats('second', b);
  const d = a.dimension;
  let meanTerm = 0;
  let traces = 0;
  for (let i = 0; i < d; i++) {
    meanTerm += ((a.mean[i] as number) - (b.mean[i] as number)) ** 2;
    traces += (a.covariance[i * d + i] as number) + (b.covariance[i * d + i] as number);
  }
  const cross = traceSqrtProduct(toMatrix(a.covariance, d), toMatrix(b.covariance, d));
  // Rounding can leave −1e−15 for identical Gaussians; a distance is never negative.
  return Math.max(0, meanTerm + traces - 2 * cross);
}

/** Softmax of each row of `logits`, row-major [count, numClasses]. */
export function softmaxRows(logits: ArrayLike<number>, numClasses: number): Float32Array {
  const count = rowCount('logits', logits, numClasses);
  const out = new Float32Array(logits.length);
  for (let n = 0; n < count; n++) {
    let max = -Infinity;
    for (let k = 0; k < numClasses; k++) max = Math.max(max, logits[n * numClasses + k] as number);
    let sum = 0;
    for (let k = 0; k < numClasses; k++) {
      const e = Math.exp((logits[n * numClasses + k] as number) - max);
      out[n * numClasses + k] = e;
      sum += e;
    }
    for (let k = 0; k < numClasses; k++) out[n * numClasses + k] = (out[n * numClasses + k] as number) / sum;
  }
  return out;
}

/** The most probable class of each row (the first one on ties). */
export function predictedClasses(probabilities: ArrayLike<number>, numClasses: number): Int32Array {
  const count = rowCount('probabilities', probabilities, numClasses);
  const out = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    let best = 0;
    for (let k = 1; k < numClasses; k++) {
      if ((probabilities[n * numClasses + k] as number) > (probabilities[n * numClasses + best] as number))
        best = k;
    }
    out[n] = best;
  }
  return out;
}

export interface ClassAccuracy {
  /** Fraction of rows whose most probable class is their label. */
  accuracy: number;
  /** The same per label (NaN for a label no row has). */
  perClass: number[];
}

/** Accuracy of the classifier's predictions against the classes the samples were conditioned on. */
export function classAccuracy(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
): ClassAccuracy {
  const predicted = predictedClasses(probabilities, numClasses);
  if (labels.length !== predicted.length) {
    throw new InvalidArgumentError(
      `class accuracy: expected one label per row (${predicted.length}), got ${labels.length}`,
    );
  }
  if (predicted.length === 0)
    throw new InvalidArgumentError('class accuracy: expected at least one row, got none');
  const hits = new Array<number>(numClasses).fill(0);
  const totals = new Array<number>(numClasses).fill(0);
  let correct = 0;
  for (let n = 0; n < predicted.length; n++) {
    const label = labels[n] as number;
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new InvalidArgumentError(
        `class accuracy: expected labels in [0, ${numClasses - 1}], got ${label}`,
      );
    }
    const hit = predicted[n] === label ? 1 : 0;
    correct += hit;
    hits[label] = (hits[label] as number) + hit;
    totals[label] = (totals[label] as number) + 1;
  }
  return {
    accuracy: correct / predicted.length,
    perClass: hits.map((h, k) => (totals[k] === 0 ? Number.NaN : h / (totals[k] as number))),
  };
}

/**
 * The Inception Score with the zoo's classifier: exp(E_x[KL(p(y|x) ‖ p(y))]), p(y) the
 * mean prediction. It is the number of classes for confident predictions spread evenly
 * over the classes, and 1 when every sample gets the same prediction.
 */
export function inceptionScore(probabilities: ArrayLike<number>, numClasses: number): number {
  const count = rowCount('probabilities', probabilities, numClasses);
  if (count === 0) throw new InvalidArgumentError('inception score: expected at least one row, got none');
  checkFinite('probabilities', probabilities);
  const marginal = new Float64Array(numClasses);
  for (let n = 0; n < count; n++) {
    for (let k = 0; k < numClasses; k++)
      marginal[k] = (marginal[k] as number) + (probabilities[n * numClasses + k] as number);
  }
  for (let k = 0; k < numClasses; k++) marginal[k] = (marginal[k] as number) / count;
  let klSum = 0;
  for (let n = 0; n < count; n++) {
    for (let k = 0; k < numClasses; k++) {
      const p = probabilities[n * numClasses + k] as number;
      // 0·log 0 = 0; p > 0 implies marginal > 0.
      if (p > 0) klSum += p * Math.log(p / (marginal[k] as number));
    }
  }
  return Math.exp(klSum / count);
}
