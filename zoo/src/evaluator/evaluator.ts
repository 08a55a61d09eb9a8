import { fileURLToPath } from 'node:url';
import {
  type Backend,
  type BackendSpec,
  InvalidArgumentError,
  InvalidConfigError,
  type Model,
  ModelFolder,
  type RgbImage,
  resolveBackend,
  ShapeMismatchError,
  type Tensor,
} from '@noiserefine/core';
import {
  classAccuracy,
  featureStatistics,
  frechetDistance,
  type GaussianStats,
  inceptionScore,
  softmaxRows,
} from './metrics';
import { EVALUATOR_INPUT, EVALUATOR_OUTPUTS, type EvaluatorArchitecture } from './network';

/** The shipped evaluator (model.onnx + config.json). */
export const EVALUATOR_DIR = fileURLToPath(new URL('../../models/evaluator', import.meta.url));

export const EVALUATOR_CONFIG_FORMAT = 'noiserefine-zoo-evaluator';
export const EVALUATOR_CONFIG_VERSION = 1;

/** Feature statistics of real images: the reference every Fréchet distance is measured against. */
export interface ReferenceStatistics {
  /** Where the images came from: the dataset seed and the index range. */
  datasetSeed: number;
  start: number;
  count: number;
  /** Whether the images were rounded to 8 bits first, as generated samples are. */
  quantized8Bit: boolean;
  dimension: number;
  mean: number[];
  /** Row-major [dimension, dimension]. */
  covariance: number[];
}

/** `config.json` of the evaluator folder. */
export interface EvaluatorConfig {
  format: string;
  version: number;
  architecture: EvaluatorArchitecture;
  classes: string[];
  reference: ReferenceStatistics;
  /** How it was trained and what it scored (free-form record for people). */
  training?: Record<string, unknown>;
  sanity?: Record<string, unknown>;
}

/** What the evaluator sees in a batch of images. */
export interface EvaluatorOutputs {
  count: number;
  /** Row-major [count, featureDim], unit length. */
  features: Float32Array;
  /** Row-major [count, numClasses], softmax of the logits. */
  probabilities: Float32Array;
}

/** The three numbers a model is judged by, plus per-class accuracy. */
export interface SampleScores {
  count: number;
  /** Fréchet distance of the samples' features to the reference statistics. */
  fd: number;
  /** Fraction of samples classified as the class they were conditioned on. */
  accuracy: number;
  perClassAccuracy: number[];
  /** exp(E[KL(p(y|x) ‖ p(y))]) with the evaluator's softmax. */
  isScore: number;
}

/** 8-bit RGB images (row-major, interleaved) → [N, 3, H, W] in [−1, 1], the evaluator's input. */
export function rgbImagesToArray(images: readonly RgbImage[]): Float32Array {
  const first = images[0];
  if (!first) throw new InvalidArgumentError('images: expected at least one image, got none');
  const { width, height } = first;
  const plane = width * height;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((image, n) => {
    if (image.width !== width || image.height !== height || image.data.length !== 3 * plane) {
      throw new ShapeMismatchError(
        `image ${n}`,
        [height, width, 3],
        [image.height, image.width, image.data.length / (image.width * image.height)],
      );
    }
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++)
        out[(n * 3 + c) * plane + p] = ((image.data[p * 3 + c] as number) / 255) * 2 - 1;
    }
  });
  return out;
}

/** The reference statistics as GaussianStats. */
export function referenceStats(reference: ReferenceStatistics): GaussianStats {
  return {
    dimension: reference.dimension,
    count: reference.count,
    mean: Float64Array.from(reference.mean),
    covariance: Float64Array.from(reference.covariance),
  };
}

/**
 * Runs the evaluator network on images [N, 3, S, S] in [−1, 1] (or 8-bit RGB images), in
 * batches: unit-length features and softmax probabilities.
 */
export async function embedImages(
  backend: Backend,
  model: Model,
  architecture: EvaluatorArchitecture,
  images: Float32Array | readonly RgbImage[],
  options: { batchSize?: number } = {},
): Promise<EvaluatorOutputs> {
  const data = images instanceof Float32Array ? images : rgbImagesToArray(images);
  const { imageSize, featureDim, numClasses } = architecture;
  const per = 3 * imageSize * imageSize;
  if (data.length === 0 || data.length % per !== 0) {
    throw new ShapeMismatchError(
      'evaluator images',
      ['N', 3, imageSize, imageSize],
      [data.length / per, per],
    );
  }
  const count = data.length / per;
  const batchSize = options.batchSize ?? 500;
  const features = new Float32Array(count * featureDim);
  const logits = new Float32Array(count * numClasses);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const input = backend.tensors.fromData(data.slice(start * per, (start + n) * per), [
      n,
      3,
      imageSize,
      imageSize,
    ]);
    let outputs: Record<string, Tensor> | undefined;
    try {
      outputs = await model.run(
        { [EVALUATOR_INPUT]: input },
        { outputs: [EVALUATOR_OUTPUTS.logits, EVALUATOR_OUTPUTS.features] },
      );
      features.set(await (outputs[EVALUATOR_OUTPUTS.features] as Tensor).data(), start * featureDim);
      logits.set(await (outputs[EVALUATOR_OUTPUTS.logits] as Tensor).data(), start * numClasses);
    } finally {
      input.dispose();
      for (const t of Object.values(outputs ?? {})) t.dispose();
    }
  }
  return { count, features, probabilities: softmaxRows(logits, numClasses) };
}

/** Scores evaluator outputs against the labels the samples were conditioned on. */
export function scoreOutputs(
  outputs: EvaluatorOutputs,
  labels: ArrayLike<number>,
  reference: GaussianStats,
  numClasses: number,
): SampleScores {
  const { accuracy, perClass } = classAccuracy(outputs.probabilities, labels, numClasses);
  return {
    count: outputs.count,
    fd: frechetDistance(featureStatistics(outputs.features, reference.dimension), reference),
    accuracy,
    perClassAccuracy: perClass,
    isScore: inceptionScore(outputs.probabilities, numClasses),
  };
}

function parseConfig(raw: Record<string, unknown>, source: string): EvaluatorConfig {
  if (raw.format !== EVALUATOR_CONFIG_FORMAT || raw.version !== EVALUATOR_CONFIG_VERSION) {
    throw new InvalidConfigError(
      'format',
      `"${EVALUATOR_CONFIG_FORMAT}" version ${EVALUATOR_CONFIG_VERSION}`,
      { format: raw.format, version: raw.version },
      { source },
    );
  }
  const config = raw as unknown as EvaluatorConfig;
  const reference = config.reference;
  const d = config.architecture?.featureDim;
  if (
    !reference ||
    reference.dimension !== d ||
    reference.mean?.length !== d ||
    reference.covariance?.length !== d * d
  ) {
    throw new InvalidConfigError(
      'reference',
      `statistics of dimension ${d} (mean of ${d} values, covariance of ${d * d})`,
      reference && {
        dimension: reference.dimension,
        mean: reference.mean?.length,
        covariance: reference.covariance?.length,
      },
      { source },
    );
  }
  if (config.classes?.length !== config.architecture.numClasses) {
    throw new InvalidConfigError('classes', `${config.architecture.numClasses} class names`, config.classes, {
      source,
    });
  }
  return config;
}

/**
 * The zoo's evaluator on a backend: features and class probabilities for images, and
 * the scores (FD, accuracy, IS) for a set of conditioned samples.
 */
export class Evaluator {
  readonly reference: GaussianStats;

  constructor(
    readonly backend: Backend,
    readonly model: Model,
    readonly config: EvaluatorConfig,
  ) {
    this.reference = referenceStats(config.reference);
  }

  /** Loads `model.onnx` and `config.json` from `dir` (default: the shipped evaluator). */
  static async load(options: { backend: BackendSpec; dir?: string }): Promise<Evaluator> {
    const folder = new ModelFolder(options.dir ?? EVALUATOR_DIR);
    const config = parseConfig(await folder.readJson('config.json'), folder.resolve('config.json'));
    const backend = await resolveBackend(options.backend);
    const model = await backend.loadModel(folder.resolve('model.onnx'));
    return new Evaluator(backend, model, config);
  }

  get numClasses(): number {
    return this.config.architecture.numClasses;
  }

  /** Features and probabilities of images [N, 3, S, S] in [−1, 1] (or 8-bit RGB images). */
  embed(
    images: Float32Array | readonly RgbImage[],
    options: { batchSize?: number } = {},
  ): Promise<EvaluatorOutputs> {
    return embedImages(this.backend, this.model, this.config.architecture, images, options);
  }

  /** FD, accuracy and IS of images conditioned on `labels` (one per image). */
  async score(images: Float32Array | readonly RgbImage[], labels: ArrayLike<number>): Promise<SampleScores> {
    const outputs = await this.embed(images);
    return scoreOutputs(outputs, labels, this.reference, this.numClasses);
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
