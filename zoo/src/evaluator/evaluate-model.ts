import {
  type AnyPipeline,
  type CommonGenerateOptions,
  InvalidArgumentError,
  type RgbImage,
  SiTPipeline,
} from '@noiserefine/core';
import { NUM_CLASSES } from '../classes';
import { generateSample } from '../dataset';
import { type Evaluator, rgbImagesToArray, type SampleScores, scoreOutputs } from './evaluator';

/** One batch of samples to generate. */
export interface SampleBatch {
  /** Position of the batch, and of its first sample in the evaluation. */
  index: number;
  start: number;
  /** The class each sample is conditioned on. */
  labels: number[];
  /** A caption naming each sample's class, for text-conditioned families. */
  prompts: string[];
  /** Seed of the batch's initial noise. */
  seed: number;
}

/** Generates the images of one batch, in order. */
export type BatchSampler = (batch: SampleBatch) => Promise<readonly RgbImage[]>;

/** Options a pipeline is called with besides the conditioning and the seed. */
export type GenerateOverrides = Partial<CommonGenerateOptions> & Record<string, unknown>;

export interface PipelineSamplerOptions {
  /** diffusers' w (1 = unguided); default: the pipeline's own default. */
  guidanceScale?: number;
  numInferenceSteps?: number;
  /** Merged into every generate() call: a guidance object, a scheduler, … */
  generateOptions?: GenerateOverrides;
  /** Per-batch options (e.g. refined initial latents), merged last. */
  batchOptions?: (batch: SampleBatch) => GenerateOverrides | Promise<GenerateOverrides>;
}

/**
 * A sampler over an SDK pipeline: class labels for SiT, captions from the zoo's grammar
 * for the text-conditioned families. Returns decoded 8-bit images; latents are released.
 */
export function pipelineSampler(pipeline: AnyPipeline, options: PipelineSamplerOptions = {}): BatchSampler {
  return async (batch) => {
    const common: GenerateOverrides = {
      seed: batch.seed,
      outputType: 'image',
      ...(options.numInferenceSteps === undefined ? {} : { numInferenceSteps: options.numInferenceSteps }),
      ...(options.guidanceScale === undefined ? {} : { guidanceScale: options.guidanceScale }),
      ...options.generateOptions,
      ...(options.batchOptions ? await options.batchOptions(batch) : {}),
    };
    const result =
      pipeline instanceof SiTPipeline
        ? await pipeline.generate({ ...common, classLabel: batch.labels })
        : await pipeline.generate({ ...common, prompt: batch.prompts });
    result.latents.dispose();
    return result.images;
  };
}

/** Labels 0, 1, …, K − 1, 0, 1, …: as balanced over the classes as `count` allows. */
export function balancedLabels(count: number, numClasses = NUM_CLASSES): number[] {
  return Array.from({ length: count }, (_, i) => i % numClasses);
}

/**
 * A caption for evaluation sample `index` of class `label`: the caption of a dataset
 * sample of that class (dataset labels also cycle, so sample 10·⌊index/10⌋ + label has
 * it), so prompts vary like the training captions and each names exactly one class.
 */
export function classPrompt(label: number, index: number, promptSeed: number): string {
  return generateSample(promptSeed, NUM_CLASSES * Math.floor(index / NUM_CLASSES) + label).caption;
}

interface EvaluationCommon {
  evaluator: Evaluator;
  /** How many images to generate, classes balanced (default 1000). */
  samples?: number;
  /** Images per generate() call (default 50). */
  batchSize?: number;
  /** Batch b uses noise seed `seed + b` (default 0). */
  seed?: number;
  /** Dataset seed the prompts' captions come from (default 1: not the training captions). */
  promptSeed?: number;
  /** Keep the generated images in the result (e.g. for a preview grid). */
  keepImages?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export type EvaluateModelOptions = EvaluationCommon &
  ({ sampler: BatchSampler } | ({ pipeline: AnyPipeline } & PipelineSamplerOptions));

export interface ModelEvaluation extends SampleScores {
  /** Wall time of sampling and scoring. */
  seconds: number;
  labels: number[];
  /** [samples, 3, S, S] in [−1, 1], when keepImages was set. */
  images?: Float32Array;
}

/**
 * Generates `samples` class-balanced images batch by batch and scores them with the
 * evaluator: Fréchet distance to the real-image statistics, accuracy against the
 * conditioning class, and the Inception-Score analogue. Deterministic given the seeds.
 */
export async function evaluateModel(options: EvaluateModelOptions): Promise<ModelEvaluation> {
  const { evaluator, samples = 1000, batchSize = 50, seed = 0, promptSeed = 1 } = options;
  if (!Number.isInteger(samples) || samples < 2 || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidArgumentError(
      `evaluateModel: expected at least 2 samples and a positive batch size, got ${samples} and ${batchSize}`,
    );
  }
  const sampler = 'sampler' in options ? options.sampler : pipelineSampler(options.pipeline, options);
  const started = performance.now();
  const labels = balancedLabels(samples, evaluator.numClasses);
  const { imageSize, featureDim, numClasses } = evaluator.config.architecture;
  const per = 3 * imageSize * imageSize;
  const features = new Float32Array(samples * featureDim);
  const probabilities = new Float32Array(samples * numClasses);
  const images = options.keepImages ? new Float32Array(samples * per) : undefined;
  for (let start = 0, index = 0; start < samples; start += batchSize, index++) {
    const batchLabels = labels.slice(start, start + batchSize);
    const batch: SampleBatch = {
      index,
      start,
      labels: batchLabels,
      prompts: batchLabels.map((label, i) => classPrompt(label, start + i, promptSeed)),
      seed: seed + index,
    };
    const generated = await sampler(batch);
    if (generated.length !== batchLabels.length) {
      throw new InvalidArgumentError(
        `sampler: expected ${batchLabels.length} images for batch ${index}, got ${generated.length}`,
      );
    }
    const data = rgbImagesToArray(generated);
    if (data.length !== batchLabels.length * per) {
      const got = generated[0] as RgbImage;
      throw new InvalidArgumentError(
        `sampler: expected ${imageSize}×${imageSize} images (the evaluator's size), got ${got.width}×${got.height}`,
      );
    }
    const out = await evaluator.embed(data);
    features.set(out.features, start * featureDim);
    probabilities.set(out.probabilities, start * numClasses);
    images?.set(data, start * per);
    options.onProgress?.(Math.min(samples, start + batchSize), samples);
  }
  const scores = scoreOutputs(
    { count: samples, features, probabilities },
    labels,
    evaluator.reference,
    numClasses,
  );
  return {
    ...scores,
    seconds: (performance.now() - started) / 1000,
    labels,
    ...(images ? { images } : {}),
  };
}
