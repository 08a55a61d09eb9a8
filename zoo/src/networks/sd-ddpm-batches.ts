import { Generator, InvalidArgumentError } from '@noiserefine/core';
import { permutation } from '../training/flow-matching-batches';

/**
 * Prompt conditioning per caption, computed once by the frozen text encoders: `rows` distinct
 * captions, each [seq, dim] hidden states (and a pooled [pooledDim] vector for SDXL).
 */
export interface CaptionConditioning {
  hidden: Float32Array;
  seq: number;
  dim: number;
  pooled?: Float32Array;
  pooledDim?: number;
  /** Row of each dataset sample's caption. */
  rowOf: Int32Array;
  /** Row standing for the empty prompt (dropped captions). */
  emptyRow: number;
}

/** One batch of the DDPM objective, on the host. */
export interface DDPMBatch {
  /** x_t = √ᾱ_t·x0 + √(1 − ᾱ_t)·ε, [B, C, H, W]. */
  noisy: Float32Array;
  /** Integer timesteps in [0, N), [B]. */
  timesteps: Int32Array;
  /** ε, or v = √ᾱ_t·ε − √(1 − ᾱ_t)·x0 for v-prediction, [B, C, H, W]. */
  target: Float32Array;
  /** Prompt hidden states [B, seq, dim]. */
  context: Float32Array;
  /** Pooled prompt embeddings [B, pooledDim] (SDXL). */
  pooled?: Float32Array;
  /** Dataset rows the batch drew. */
  indices: Int32Array;
}

export interface DDPMBatchesOptions {
  /** Scaled latents [count, C, H, W], flattened. */
  latents: Float32Array;
  /** Values per latent (C·H·W). */
  sampleSize: number;
  conditioning: CaptionConditioning;
  batchSize: number;
  /** Probability of replacing a caption by the empty prompt (SD: 0.1). */
  captionDropout: number;
  predictionType: 'epsilon' | 'v_prediction';
  /** ᾱ_t of the noise schedule, one per training timestep. */
  alphasCumprod: Float32Array;
  seed: number;
}

/** Separate seed streams for the epoch orders and for the per-step draws. */
const ORDER_STREAM = 0x5eed0;
const STEP_STREAM = 0x5eed1;

/** A 32-bit generator seed for item `index` of a stream (the generator keeps 32 bits, as torch does). */
function seedOf(seed: number, stream: number, index: number): number {
  return (Math.imul(seed ^ stream, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0;
}

/**
 * The batches of the DDPM training objective (Ho et al.; SD's): t uniform over the training
 * timesteps, Gaussian noise, the ε or v target, captions dropped to the empty prompt with
 * probability `captionDropout`. Each batch is a pure function of (seed, step): the data order
 * is a seeded permutation per epoch and the draws of step s come from a generator seeded by s,
 * so a resumed run sees exactly the batches of an uninterrupted one.
 */
export class DDPMBatches {
  readonly count: number;
  readonly #options: DDPMBatchesOptions;
  #epoch = -1;
  #order: Int32Array = new Int32Array(0);

  constructor(options: DDPMBatchesOptions) {
    const { latents, sampleSize, conditioning, batchSize, captionDropout, alphasCumprod } = options;
    if (!(sampleSize > 0) || latents.length % sampleSize !== 0) {
      throw new InvalidArgumentError(
        `DDPM batches: expected latents whose length is a multiple of ${sampleSize}, got ${latents.length}`,
      );
    }
    this.count = latents.length / sampleSize;
    if (conditioning.rowOf.length !== this.count) {
      throw new InvalidArgumentError(
        `DDPM batches: expected one caption row per latent (${this.count}), got ${conditioning.rowOf.length}`,
      );
    }
    const rows = conditioning.hidden.length / (conditioning.seq * conditioning.dim);
    if (
      !Number.isInteger(rows) ||
      conditioning.rowOf.some((r) => r < 0 || r >= rows) ||
      conditioning.emptyRow >= rows
    ) {
      throw new InvalidArgumentError(`DDPM batches: caption rows must index the ${rows} conditioning rows`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > this.count) {
      throw new InvalidArgumentError(
        `DDPM batches: expected a batch size in [1, ${this.count}], got ${batchSize}`,
      );
    }
    if (!(captionDropout >= 0 && captionDropout < 1)) {
      throw new InvalidArgumentError(
        `DDPM batches: expected captionDropout in [0, 1), got ${captionDropout}`,
      );
    }
    if (alphasCumprod.length < 2) {
      throw new InvalidArgumentError(
        `DDPM batches: expected ᾱ for ≥ 2 timesteps, got ${alphasCumprod.length}`,
      );
    }
    this.#options = options;
  }

  #row(position: number): number {
    const epoch = Math.floor(position / this.count);
    if (epoch !== this.#epoch) {
      this.#order = permutation(this.count, new Generator(seedOf(this.#options.seed, ORDER_STREAM, epoch)));
      this.#epoch = epoch;
    }
    return this.#order[position - epoch * this.count] as number;
  }

  /** The batch of optimizer step `step` (0-based). */
  batch(step: number): DDPMBatch {
    if (!Number.isInteger(step) || step < 0) {
      throw new InvalidArgumentError(`DDPM batches: expected a non-negative integer step, got ${step}`);
    }
    const { latents, sampleSize: d, batchSize: b, conditioning: c, alphasCumprod, seed } = this.#options;
    const indices = Int32Array.from({ length: b }, (_, i) => this.#row(step * b + i));
    const random = new Generator(seedOf(seed, STEP_STREAM, step));
    const n = alphasCumprod.length;
    const timesteps = Int32Array.from(random.randValues(b), (u) => Math.min(n - 1, Math.floor(u * n)));
    const drop = random.randValues(b);
    const noise = random.randnValues(b * d);
    const noisy = new Float32Array(b * d);
    const target = new Float32Array(b * d);
    const v = this.#options.predictionType === 'v_prediction';
    for (let i = 0; i < b; i++) {
      const abar = alphasCumprod[timesteps[i] as number] as number;
      const signal = Math.sqrt(abar);
      const sigma = Math.sqrt(1 - abar);
      const src = (indices[i] as number) * d;
      for (let k = 0; k < d; k++) {
        const x0 = latents[src + k] as number;
        const eps = noise[i * d + k] as number;
        noisy[i * d + k] = signal * x0 + sigma * eps;
        target[i * d + k] = v ? signal * eps - sigma * x0 : eps;
      }
    }
    const rowSize = c.seq * c.dim;
    const context = new Float32Array(b * rowSize);
    const pooled = c.pooled && c.pooledDim ? new Float32Array(b * c.pooledDim) : undefined;
    for (let i = 0; i < b; i++) {
      const row =
        (drop[i] as number) < this.#options.captionDropout
          ? c.emptyRow
          : (c.rowOf[indices[i] as number] as number);
      context.set(c.hidden.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize);
      if (pooled && c.pooled && c.pooledDim) {
        pooled.set(c.pooled.subarray(row * c.pooledDim, (row + 1) * c.pooledDim), i * c.pooledDim);
      }
    }
    return { noisy, timesteps, target, context, ...(pooled ? { pooled } : {}), indices };
  }
}
