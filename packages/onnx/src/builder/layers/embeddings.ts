import { InvalidArgumentError } from '@noiserefine/core';
import type { GraphBuilder } from '../graph-builder';
import type { Value } from '../value';
import { silu } from './activations';
import { type LinearInit, linear } from './linear';

export interface SinusoidalOptions {
  /** Embedding width (even). */
  dim: number;
  maxPeriod?: number;
  /** [cos, sin] instead of [sin, cos] (DiT: true). */
  flipSinToCos?: boolean;
  /** diffusers' downscale_freq_shift: frequencies are exp(-ln(maxPeriod)·i / (half − shift)). */
  downscaleFreqShift?: number;
  /** Multiplies the arguments (diffusers' `scale`). */
  scale?: number;
}

/** The frequencies of diffusers' get_timestep_embedding, in float32. */
export function timestepFrequencies(options: SinusoidalOptions): Float32Array {
  const { dim, maxPeriod = 10_000, downscaleFreqShift = 0, scale = 1 } = options;
  if (!Number.isInteger(dim) || dim < 2 || dim % 2 !== 0) {
    throw new InvalidArgumentError(`timestep embedding: expected an even dim ≥ 2, got ${dim}`);
  }
  const half = dim / 2;
  return Float32Array.from(
    { length: half },
    (_, i) => Math.exp((-Math.log(maxPeriod) * i) / (half - downscaleFreqShift)) * scale,
  );
}

/** Sinusoidal embedding of float timesteps [B] → [B, dim] (diffusers' get_timestep_embedding). */
export function sinusoidalTimestepEmbedding(g: GraphBuilder, t: Value, options: SinusoidalOptions): Value {
  if (t.dtype !== 'float32') {
    throw new InvalidArgumentError(
      `timestep embedding: expected float32 timesteps, got ${t.dtype} "${t.name}"`,
    );
  }
  const freqs = timestepFrequencies(options);
  const args = g.mul(g.unsqueeze(t, [1]), g.constant(freqs, [1, freqs.length], { name: 'frequencies' }));
  const sin = g.sin(args);
  const cos = g.cos(args);
  return g.concat(options.flipSinToCos ? [cos, sin] : [sin, cos], -1);
}

export interface TimestepEmbedderOptions {
  /** Module path, e.g. 't_embedder'; layers `linear_1`, `linear_2` (diffusers' TimestepEmbedding). */
  name: string;
  dim: number;
  frequencyDim?: number;
  init?: LinearInit;
}

/** DiT's timestep embedder: sinusoid ([cos, sin], 256 wide) → linear → SiLU → linear. */
export function timestepEmbedder(g: GraphBuilder, t: Value, options: TimestepEmbedderOptions): Value {
  const { dim, frequencyDim = 256, init } = options;
  return g.scope(options.name, () => {
    const freq = sinusoidalTimestepEmbedding(g, t, { dim: frequencyDim, flipSinToCos: true });
    const h = silu(
      g,
      linear(g, freq, { name: 'linear_1', inFeatures: frequencyDim, outFeatures: dim, init }),
    );
    return linear(g, h, { name: 'linear_2', inFeatures: dim, outFeatures: dim, init });
  });
}

export interface LabelEmbeddingOptions {
  /** Module path, e.g. 'y_embedder'; the table is `<name>.embedding_table.weight` (DiT). */
  name: string;
  numClasses: number;
  dim: number;
  /** Add the null class `numClasses` used for classifier-free guidance (default true). */
  withNullClass?: boolean;
}

/** Class-label embedding [B] int64 → [B, dim] by Gather; DiT initialises the table N(0, 0.02²). */
export function labelEmbedding(g: GraphBuilder, labels: Value, options: LabelEmbeddingOptions): Value {
  const rows = options.numClasses + (options.withNullClass === false ? 0 : 1);
  return g.scope(options.name, () => {
    const table = g.scope('embedding_table', () =>
      g.parameter('weight', [rows, options.dim], { normal: 0.02 }),
    );
    return g.gather(table, labels, 0);
  });
}

/**
 * Fixed 2-D sin-cos position embedding of a gridSize×gridSize token grid, [N, dim] row-major
 * (MAE/DiT): the first half encodes the column, the second the row, each as [sin, cos].
 */
export function sincosPositionEmbedding2d(dim: number, gridSize: number): Float32Array {
  if (dim % 4 !== 0) {
    throw new InvalidArgumentError(`2-D position embedding: expected dim divisible by 4, got ${dim}`);
  }
  const quarter = dim / 4;
  const omega = Float32Array.from({ length: quarter }, (_, i) => 1 / 10_000 ** (i / quarter));
  const out = new Float32Array(gridSize * gridSize * dim);
  for (let row = 0; row < gridSize; row++) {
    for (let col = 0; col < gridSize; col++) {
      const base = (row * gridSize + col) * dim;
      for (let i = 0; i < quarter; i++) {
        const w = omega[i] as number;
        out[base + i] = Math.sin(col * w);
        out[base + quarter + i] = Math.cos(col * w);
        out[base + 2 * quarter + i] = Math.sin(row * w);
        out[base + 3 * quarter + i] = Math.cos(row * w);
      }
    }
  }
  return out;
}

/** The 2-D position embedding as a fixed [1, N, dim] Constant named `<scope>.pos_embed`. */
export function positionEmbedding2d(g: GraphBuilder, options: { dim: number; gridSize: number }): Value {
  const { dim, gridSize } = options;
  return g.constant(sincosPositionEmbedding2d(dim, gridSize), [1, gridSize * gridSize, dim], {
    name: 'pos_embed',
  });
}
