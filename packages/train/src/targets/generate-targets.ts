import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AbortError,
  Generator,
  InvalidArgumentError,
  runPasses,
  runSamplingLoop,
  scale,
  tensor,
} from '@noiserefine/core';
import { writeFileAtomic, writeJsonAtomic } from '../atomic-file';
import type { Condition } from '../conditions';
import { derivedSeed } from '../seeds';
import { makeTargetGuidance, type TargetGuidance, usesPerturbedAttention } from '../guidance-spec';
import type { TrainingModel } from '../training-model';
import {
  chunkCount,
  chunkName,
  chunkRange,
  MANIFEST_FILE,
  manifestDifference,
  readChunkRecord,
  readManifest,
  sha256,
  TARGET_FORMAT,
  TARGET_FORMAT_VERSION,
  type TargetManifest,
} from './target-format';

export interface GenerateTargetsOptions {
  /** Output folder (created); rerunning with the same settings resumes. */
  outputDir: string;
  /** Cycled over the samples. */
  conditions: readonly Condition[];
  numSamples: number;
  guidance: TargetGuidance;
  /** N′ (default 20, as the paper). */
  numInferenceSteps?: number;
  /** Seed of the Gaussian noises (default 0). */
  seed?: number;
  /** Samples per chunk file (default 64). */
  chunkSize?: number;
  /** Samples per denoiser batch (default 8). */
  batchSize?: number;
  /** This machine's part: chunks k with k mod count = index (default the whole set). */
  shard?: { index: number; count: number };
  onProgress?: (event: TargetProgress) => void;
  signal?: AbortSignal;
}

export interface TargetProgress {
  /** Chunks of this shard done (skipped ones included) and in all. */
  chunksDone: number;
  chunksTotal: number;
  samplesDone: number;
  samplesTotal: number;
  /** Chunks found complete from an earlier run. */
  resumed: number;
}

export interface GenerateTargetsResult {
  manifest: TargetManifest;
  /** Chunks made by this call, and chunks that were already there. */
  written: number[];
  skipped: number[];
}

/** x_T of sample i: torch.manual_seed(fmix32(seed) XOR i); torch.randn(1, C, H, W). */
export function sampleNoise(seed: number, index: number, size: number): Float32Array {
  return new Generator(derivedSeed(seed, index)).randnValues(size);
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`targets: expected ${what} to be a positive integer, got ${value}`);
  }
  return value;
}

export function targetManifest(model: TrainingModel, options: GenerateTargetsOptions): TargetManifest {
  model.checkConditions(options.conditions, 'target conditions');
  const steps = positiveInteger(options.numInferenceSteps ?? 20, 'numInferenceSteps');
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new InvalidArgumentError(`targets: expected seed to be an integer in [0, 2^32), got ${seed}`);
  }
  makeTargetGuidance(options.guidance);
  return {
    format: TARGET_FORMAT,
    version: TARGET_FORMAT_VERSION,
    family: model.family,
    base_model: model.baseModel,
    latent_shape: [...model.latentShape],
    num_samples: positiveInteger(options.numSamples, 'numSamples'),
    chunk_size: positiveInteger(options.chunkSize ?? 64, 'chunkSize'),
    batch_size: positiveInteger(options.batchSize ?? 8, 'batchSize'),
    seed,
    condition_kind: model.conditionKind,
    conditions: [...options.conditions],
    guidance: {
      guidance_scale: options.guidance.guidanceScale,
      pag_scale: options.guidance.pagScale,
      pag_layers: options.guidance.pagLayers ? [...options.guidance.pagLayers] : null,
    },
    num_inference_steps: steps,
    scheduler: model.scheduler.toConfig(),
  };
}

/** Writes the manifest, or checks that the folder's own one was made with the same settings. */
async function claimFolder(dir: string, manifest: TargetManifest): Promise<void> {
  await mkdir(dir, { recursive: true });
  let existing: TargetManifest | undefined;
  try {
    existing = await readManifest(dir);
  } catch {
    existing = undefined;
  }
  if (!existing) {
    await writeJsonAtomic(join(dir, MANIFEST_FILE), manifest);
    return;
  }
  const differs = manifestDifference(existing, manifest);
  if (differs !== undefined) {
    throw new InvalidArgumentError(
      `${dir} holds targets made with other settings: "${differs}" is ${JSON.stringify(existing[differs as keyof TargetManifest])} there, ${JSON.stringify(manifest[differs as keyof TargetManifest])} now; use another folder or the same settings`,
    );
  }
}

/**
 * Guided targets for MSD (paper Sec. 3, App. D.1): per sample, seeded Gaussian noise x_T and
 * x0_guide = Denoise_guided(x_T, c) with N′ steps of the model's scheduler, CFG and/or PAG.
 * Chunks are written atomically and skipped when already complete, so a killed run resumes,
 * and `shard` splits the chunks between machines writing into one folder (or several folders
 * merged by copying the chunk files): every chunk's bytes depend only on its index.
 */
export async function generateTargets(
  model: TrainingModel,
  options: GenerateTargetsOptions,
): Promise<GenerateTargetsResult> {
  const manifest = targetManifest(model, options);
  const shard = options.shard ?? { index: 0, count: 1 };
  if (!Number.isInteger(shard.count) || shard.count < 1 || !(shard.index >= 0 && shard.index < shard.count)) {
    throw new InvalidArgumentError(
      `targets: expected shard index in [0, count), got ${shard.index} of ${shard.count}`,
    );
  }
  const dir = options.outputDir;
  await claimFolder(dir, manifest);
  if (usesPerturbedAttention(options.guidance))
    await model.enablePerturbedAttention(options.guidance.pagLayers);
  const guidance = makeTargetGuidance(options.guidance, model.options.cfgChannels);

  const mine = Array.from({ length: chunkCount(manifest) }, (_, k) => k).filter(
    (k) => k % shard.count === shard.index,
  );
  const samplesTotal = mine.reduce((n, k) => n + chunkRange(manifest, k).count, 0);
  const written: number[] = [];
  const skipped: number[] = [];
  let samplesDone = 0;
  const report = () =>
    options.onProgress?.({
      chunksDone: written.length + skipped.length,
      chunksTotal: mine.length,
      samplesDone,
      samplesTotal,
      resumed: skipped.length,
    });
  for (const k of mine) {
    if (options.signal?.aborted)
      throw new AbortError('target generation was aborted', { cause: options.signal.reason });
    const { start, count } = chunkRange(manifest, k);
    if (await readChunkRecord(dir, manifest, k)) {
      skipped.push(k);
      samplesDone += count;
      report();
      continue;
    }
    const bytes = await generateChunk(model, manifest, guidance, start, count, options.signal);
    const file = `${chunkName(k)}.bin`;
    await writeFileAtomic(join(dir, file), bytes);
    await writeJsonAtomic(join(dir, `${chunkName(k)}.json`), {
      index: k,
      start,
      count,
      file,
      sha256: sha256(bytes),
    });
    written.push(k);
    samplesDone += count;
    report();
  }
  return { manifest, written, skipped };
}

async function generateChunk(
  model: TrainingModel,
  manifest: TargetManifest,
  guidance: ReturnType<typeof makeTargetGuidance>,
  start: number,
  count: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const [c, h, w] = manifest.latent_shape as [number, number, number];
  const size = c * h * w;
  const noise = new Float32Array(count * size);
  const targets = new Float32Array(count * size);
  for (let i = 0; i < count; i++) noise.set(sampleNoise(manifest.seed, start + i, size), i * size);
  for (let b = 0; b < count; b += manifest.batch_size) {
    const n = Math.min(manifest.batch_size, count - b);
    const conditions = Array.from(
      { length: n },
      (_, j) => manifest.conditions[(start + b + j) % manifest.conditions.length] as Condition,
    );
    const conditioned = await model.conditioned(conditions);
    const scheduler = model.scheduler.clone();
    scheduler.setTimesteps(manifest.num_inference_steps);
    const x = tensor(noise.subarray(b * size, (b + n) * size), [n, c, h, w], model.backend.tensors);
    const latents = scale(x, scheduler.initNoiseSigma);
    x.dispose();
    try {
      const final = await runSamplingLoop({
        scheduler,
        guidance,
        latents,
        denoise: (sample, t, passes) => runPasses(conditioned.spec, sample, t, passes),
        signal,
      });
      targets.set(await final.data(), b * size);
      if (final !== latents) final.dispose();
    } finally {
      latents.dispose();
      conditioned.dispose();
    }
  }
  const bytes = new Uint8Array(2 * count * size * 4);
  bytes.set(new Uint8Array(noise.buffer), 0);
  bytes.set(new Uint8Array(targets.buffer), count * size * 4);
  return bytes;
}
