import { Generator, InvalidArgumentError } from '@noiserefine/core';
import type * as ort from 'onnxruntime-node';
import { SIT_IO } from '../networks/sit';

/** The onnxruntime-node module, passed in so this file needs no runtime import of it. */
export type OrtModule = typeof ort;

export interface SiTSamplingOptions {
  /** One class label per sample. */
  labels: readonly number[];
  /** The null class index (= the number of classes). */
  nullClass: number;
  /** Classifier-free guidance scale; 1 samples the conditional model alone. */
  guidanceScale: number;
  /** Euler steps from t = 0 (noise) to t = 1 (data); SiT samples with 20. */
  numSteps: number;
  /** Seeds the starting noise (torch's randn order). */
  seed: number;
  /** Latent shape [C, H, W]. */
  latentShape: readonly [number, number, number];
}

/**
 * Samples a SiT velocity model with Euler steps on the uniform grid t_i = i/n, with
 * classifier-free guidance v = u + w·(c − u) on every channel (the batch is run as
 * [uncond, cond] when w ≠ 1). Returns the final latents [B, C, H, W].
 */
export async function sampleSiT(
  runtime: OrtModule,
  session: ort.InferenceSession,
  options: SiTSamplingOptions,
): Promise<Float32Array> {
  const { labels, nullClass, guidanceScale: w, numSteps, seed, latentShape } = options;
  if (!Number.isInteger(numSteps) || numSteps < 1) {
    throw new InvalidArgumentError(`SiT sampling: expected a positive integer step count, got ${numSteps}`);
  }
  const b = labels.length;
  const d = latentShape[0] * latentShape[1] * latentShape[2];
  const x = new Generator(seed).randnValues(b * d);
  const guided = w !== 1;
  const rows = guided ? 2 * b : b;
  const y = new BigInt64Array(rows);
  labels.forEach((label, i) => {
    if (guided) y[i] = BigInt(nullClass);
    y[guided ? b + i : i] = BigInt(label);
  });
  const yTensor = new runtime.Tensor('int64', y, [rows]);
  const dt = 1 / numSteps;
  for (let step = 0; step < numSteps; step++) {
    const t = Math.fround(step / numSteps);
    const input = new Float32Array(rows * d);
    input.set(x);
    if (guided) input.set(x, b * d);
    const out = await session.run({
      [SIT_IO.x]: new runtime.Tensor('float32', input, [rows, ...latentShape]),
      [SIT_IO.t]: new runtime.Tensor('float32', new Float32Array(rows).fill(t), [rows]),
      [SIT_IO.y]: yTensor,
    });
    const v = out[SIT_IO.output]?.data as Float32Array;
    for (let i = 0; i < b * d; i++) {
      const velocity = guided
        ? (v[i] as number) + w * ((v[b * d + i] as number) - (v[i] as number))
        : (v[i] as number);
      x[i] = (x[i] as number) + dt * velocity;
    }
  }
  return x;
}

/** Decodes scaled latents with a VAE decoder session (`latent_sample` → `sample`), dividing by the scaling factor first. */
export async function decodeLatents(
  runtime: OrtModule,
  decoder: ort.InferenceSession,
  latents: Float32Array,
  latentShape: readonly [number, number, number],
  scalingFactor: number,
): Promise<{ data: Float32Array; dims: number[] }> {
  const d = latentShape[0] * latentShape[1] * latentShape[2];
  const b = latents.length / d;
  const raw = latents.map((z) => z / scalingFactor);
  const out = await decoder.run({ latent_sample: new runtime.Tensor('float32', raw, [b, ...latentShape]) });
  const sample = out.sample;
  if (!sample) throw new InvalidArgumentError('VAE decoder: expected an output named "sample"');
  return { data: sample.data as Float32Array, dims: [...sample.dims] };
}
