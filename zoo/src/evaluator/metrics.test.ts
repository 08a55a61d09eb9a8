import { InvalidArgumentError, NonFiniteError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import {
  classAccuracy,
  featureStatistics,
  frechetDistance,
  type GaussianStats,
  inceptionScore,
  predictedClasses,
  softmaxRows,
} from './metrics';

const gaussian = (mean: number[], covariance: number[][]): GaussianStats => ({
  dimension: mean.length,
  count: 1000,
  mean: Float64Array.from(mean),
  covariance: Float64Array.from(covariance.flat()),
});

describe('featureStatistics', () => {
  it('gives the mean and the unbiased covariance (numpy.cov with rowvar=False)', () => {
    // Rows (1, 2), (3, 6), (5, 4): mean (3, 4); deviations (−2, −2), (0, 2), (2, 0).
    const stats = featureStatistics([1, 2, 3, 6, 5, 4], 2);
    expect(stats.count).toBe(3);
    expect(Array.from(stats.mean)).toEqual([3, 4]);
    // Σ = [[8, 4], [4, 8]] / 2.
    expect(Array.from(stats.covariance)).toEqual([4, 2, 2, 4]);
  });

  it('rejects ragged rows, a single vector and non-finite features', () => {
    expect(() => featureStatistics([1, 2, 3], 2)).toThrow(/features: expected shape \[N, 2\]/);
    expect(() => featureStatistics([1, 2], 2)).toThrow(InvalidArgumentError);
    expect(() => featureStatistics([1, 2, Number.NaN, 4], 2)).toThrow(NonFiniteError);
  });
});

describe('frechetDistance', () => {
  it('is 0 between identical Gaussians', () => {
    const a = gaussian(
      [0.3, -1, 2],
      [
        [2, 0.5, 0.1],
        [0.5, 1, -0.2],
        [0.1, -0.2, 0.7],
      ],
    );
    expect(frechetDistance(a, a)).toBeCloseTo(0, 10);
  });

  it('is ‖Δμ‖² between Gaussians that differ only in the mean', () => {
    const cov = [
      [1, 0.4],
      [0.4, 2],
    ];
    expect(frechetDistance(gaussian([0, 0], cov), gaussian([3, -4], cov))).toBeCloseTo(25, 10);
  });

  it('is Σ(√a − √b)² for diagonal covariances', () => {
    const a = gaussian(
      [0, 0],
      [
        [4, 0],
        [0, 9],
      ],
    );
    const b = gaussian(
      [0, 0],
      [
        [1, 0],
        [0, 1],
      ],
    );
    expect(frechetDistance(a, b)).toBeCloseTo((2 - 1) ** 2 + (3 - 1) ** 2, 10);
  });

  it('matches the 2×2 closed form tr((Σ₁Σ₂)^½) = √(tr(Σ₁Σ₂) + 2√(det Σ₁ det Σ₂)) for non-commuting covariances', () => {
    // Σ₁ = [[2, 1], [1, 2]] (eigenvalues 3, 1) against I: 4 + 2 − 2(√3 + 1).
    const rotated = gaussian(
      [0, 0],
      [
        [2, 1],
        [1, 2],
      ],
    );
    const identity = gaussian(
      [0, 0],
      [
        [1, 0],
        [0, 1],
      ],
    );
    expect(frechetDistance(rotated, identity)).toBeCloseTo(4 - 2 * Math.sqrt(3), 10);
    // Σ₁ = diag(1, 4), Σ₂ = [[2, 1], [1, 2]]: Σ₁Σ₂ = [[2, 1], [4, 8]], trace 10, dets 4 and 3.
    const diagonal = gaussian(
      [1, 0],
      [
        [1, 0],
        [0, 4],
      ],
    );
    const expected = 1 + 5 + 4 - 2 * Math.sqrt(10 + 2 * Math.sqrt(12));
    expect(frechetDistance(diagonal, rotated)).toBeCloseTo(expected, 10);
    expect(frechetDistance(rotated, diagonal)).toBeCloseTo(expected, 10);
  });

  it('handles singular covariances (features on a subspace)', () => {
    const flat = gaussian(
      [0, 0],
      [
        [1, 1],
        [1, 1],
      ],
    );
    // Both rank one along (1, 1)/√2 with variances 2 and 8: (√2 − √8)² = 2.
    const wider = gaussian(
      [0, 0],
      [
        [4, 4],
        [4, 4],
      ],
    );
    expect(frechetDistance(flat, wider)).toBeCloseTo(2, 8);
  });

  it('agrees with the estimate from samples of two known Gaussians', () => {
    // x ~ N(0, 1), y = 2x + 1 in one dimension: FD = 1 + (1 − 2)².
    const xs = Array.from({ length: 2001 }, (_, i) => (i - 1000) / 577.639);
    const a = featureStatistics(xs, 1);
    const b = featureStatistics(
      xs.map((x) => 2 * x + 1),
      1,
    );
    const sa = Math.sqrt(a.covariance[0] as number);
    expect(frechetDistance(a, b)).toBeCloseTo(1 + sa ** 2, 8);
  });

  it('rejects statistics of different dimensions', () => {
    const a = gaussian([0], [[1]]);
    const b = gaussian(
      [0, 0],
      [
        [1, 0],
        [0, 1],
      ],
    );
    expect(() => frechetDistance(a, b)).toThrow(/one dimension, got 1 and 2/);
  });
});

describe('class predictions', () => {
  it('softmax rows sum to one and keep the order of the logits', () => {
    const p = softmaxRows([0, Math.log(3), 1000, 1000], 2);
    expect(p[0]).toBeCloseTo(0.25, 7);
    expect(p[1]).toBeCloseTo(0.75, 7);
    expect(p[2]).toBeCloseTo(0.5, 7);
    expect(Array.from(predictedClasses(p, 2))).toEqual([1, 0]);
  });

  it('accuracy counts the rows whose argmax is the conditioning class, per class too', () => {
    const probabilities = [0.9, 0.1, 0, 0.2, 0.7, 0.1, 0.1, 0.1, 0.8, 0.6, 0.3, 0.1];
    const { accuracy, perClass } = classAccuracy(probabilities, [0, 1, 2, 2], 3);
    expect(accuracy).toBe(0.75);
    expect(perClass).toEqual([1, 1, 0.5]);
    expect(classAccuracy(probabilities, [1, 1, 1, 1], 3).perClass[0]).toBeNaN();
  });

  it('rejects labels out of range or of the wrong count', () => {
    expect(() => classAccuracy([1, 0], [2], 2)).toThrow(/labels in \[0, 1\], got 2/);
    expect(() => classAccuracy([1, 0], [0, 1], 2)).toThrow(/one label per row \(1\), got 2/);
  });
});

describe('inceptionScore', () => {
  it('is the number of classes for confident predictions spread evenly over the classes', () => {
    const k = 10;
    const probabilities = new Float32Array(3 * k * k);
    for (let n = 0; n < 3 * k; n++) probabilities[n * k + (n % k)] = 1;
    expect(inceptionScore(probabilities, k)).toBeCloseTo(10, 10);
  });

  it('is 1 when every sample gets the same prediction, confident or not', () => {
    expect(inceptionScore([0, 1, 0, 0, 1, 0], 3)).toBeCloseTo(1, 12);
    expect(inceptionScore([0.2, 0.3, 0.5, 0.2, 0.3, 0.5], 3)).toBeCloseTo(1, 12);
  });

  it('matches a hand-computed case', () => {
    // p(y) = (½, ½); KL of each row = ¾ ln(3/2) + ¼ ln(1/2).
    const kl = 0.75 * Math.log(1.5) + 0.25 * Math.log(0.5);
    expect(inceptionScore([0.75, 0.25, 0.25, 0.75], 2)).toBeCloseTo(Math.exp(kl), 12);
  });
});
