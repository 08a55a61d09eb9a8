import { Generator, InvalidArgumentError } from '@noiserefine/core';

/** One training batch of the flow-matching objective, on the host. */
export interface FlowMatchingBatch {
  /** x_t = t·x1 + (1 − t)·x0, [B, C, H, W]. */
  xt: Float32Array;
  /** Times in [0, 1), [B]. */
  t: Float32Array;
  /** Class labels, the null class where dropped, [B]. */
  y: Int32Array;
  /** The velocity x1 − x0, [B, C, H, W]. */
  target: Float32Array;
  /** Dataset rows the batch drew. */
  indices: Int32Array;
}

export interface FlowMatchingBatchesOptions {
  /** Scaled latents [count, C, H, W], flattened. */
  latents: Float32Array;
  labels: ArrayLike<number>;
  /** Values per latent (C·H·W). */
  sampleSize: number;
  batchSize: number;
  numClasses: number;
  /** Probability of replacing a label by the null class `numClasses` (SiT/DiT: 0.1). */
  labelDropout: number;
  seed: number;
}

/** Separate streams for the data order and for the per-step noise, so neither shifts the other. */
const ORDER_STREAM = 0;
const STEP_STREAM = 1;

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit. */
function fmix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The 32-bit seed (the generator keeps 32 bits, as torch does) of item `index` of a stream:
 * for a given run seed, distinct (stream, index) pairs get distinct seeds.
 */
function streamSeed(seed: number, stream: number, index: number): number {
  return fmix32(((index * 2 + stream) ^ fmix32(seed)) >>> 0);
}

/**
 * The batches of SiT's training objective (linear interpolant, velocity target, t ~ U(0, 1),
 * label dropout), each a pure function of (seed, step): the data order is a fresh seeded
 * permutation per epoch, and the noise, times and dropout of step s come from a generator
 * seeded by s. So a run resumed at step s sees exactly the batches an uninterrupted run sees.
 */
export class FlowMatchingBatches {
  readonly count: number;
  readonly #options: FlowMatchingBatchesOptions;
  #epoch = -1;
  #order: Int32Array = new Int32Array(0);

  constructor(options: FlowMatchingBatchesOptions) {
    const { latents, labels, sampleSize, batchSize, labelDropout, numClasses } = options;
    if (!(sampleSize > 0) || latents.length % sampleSize !== 0) {
      throw new InvalidArgumentError(
        `flow-matching batches: expected latents whose length is a multiple of ${sampleSize}, got ${latents.length}`,
      );
    }
    this.count = latents.length / sampleSize;
    if (labels.length !== this.count) {
      throw new InvalidArgumentError(
        `flow-matching batches: expected one label per latent (${this.count}), got ${labels.length}`,
      );
    }
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > this.count) {
      throw new InvalidArgumentError(
        `flow-matching batches: expected a batch size in [1, ${this.count}], got ${batchSize}`,
      );
    }
    if (!(labelDropout >= 0 && labelDropout < 1)) {
      throw new InvalidArgumentError(
        `flow-matching batches: expected labelDropout in [0, 1), got ${labelDropout}`,
      );
    }
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i] as number;
      if (!(Number.isInteger(label) && label >= 0 && label < numClasses)) {
        throw new InvalidArgumentError(
          `flow-matching batches: label ${i} is ${label}, expected 0..${numClasses - 1}`,
        );
      }
    }
    this.#options = options;
  }

  /** The dataset row at position `position` of the endless sequence of epoch permutations. */
  #row(position: number): number {
    const epoch = Math.floor(position / this.count);
    if (epoch !== this.#epoch) {
      this.#order = permutation(
        this.count,
        new Generator(streamSeed(this.#options.seed, ORDER_STREAM, epoch)),
      );
      this.#epoch = epoch;
    }
    return this.#order[position - epoch * this.count] as number;
  }

  /** The batch of optimizer step `step` (0-based). */
  batch(step: number): FlowMatchingBatch {
    if (!Number.isInteger(step) || step < 0) {
      throw new InvalidArgumentError(
        `flow-matching batches: expected a non-negative integer step, got ${step}`,
      );
    }
    const { latents, labels, sampleSize: d, batchSize: b, numClasses, labelDropout, seed } = this.#options;
    const indices = Int32Array.from({ length: b }, (_, i) => this.#row(step * b + i));
    const random = new Generator(streamSeed(seed, STEP_STREAM, step));
    const t = random.randValues(b);
    const drop = random.randValues(b);
    const noise = random.randnValues(b * d);
    const y = Int32Array.from(indices, (row, i) =>
      (drop[i] as number) < labelDropout ? numClasses : (labels[row] as number),
    );
    const xt = new Float32Array(b * d);
    const target = new Float32Array(b * d);
    for (let i = 0; i < b; i++) {
      const ti = t[i] as number;
      const src = (indices[i] as number) * d;
      for (let k = 0; k < d; k++) {
        const x1 = latents[src + k] as number;
        const x0 = noise[i * d + k] as number;
        xt[i * d + k] = ti * x1 + (1 - ti) * x0;
        target[i * d + k] = x1 - x0;
      }
    }
    return { xt, t, y, target, indices };
  }
}

/** A uniformly random permutation of 0..n−1 (Fisher–Yates on the generator's uniforms). */
export function permutation(n: number, random: Generator): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const u = random.randValues(n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor((u[i] as number) * (i + 1)));
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  return order;
}
