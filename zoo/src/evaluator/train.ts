import { InvalidArgumentError } from '@noiserefine/core';
import { encodeModel } from '@noiserefine/onnx';
import {
  AdamW,
  type EngineName,
  getCosineScheduleWithWarmup,
  OnnxGraph,
  selectEngine,
  trainStep,
} from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import type { PatchAutoencoder } from '../autoencoder/patch-autoencoder';
import { SampleRandom } from '../sample-random';
import { type AugmentationOptions, augmentImage, DEFAULT_AUGMENTATION } from './augment';
import {
  buildEvaluatorGraph,
  DEFAULT_EVALUATOR_ARCHITECTURE,
  EVALUATOR_INPUT,
  EVALUATOR_OUTPUTS,
  type EvaluatorArchitecture,
} from './network';

/** Images [count, 3, S, S] in [−1, 1] with one class label each. */
export interface LabelledImages {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface EvaluatorTrainingOptions {
  train: LabelledImages;
  /** Held-out images whose clean accuracy is logged while training. */
  validation?: LabelledImages;
  /** Reconstructions by this autoencoder are mixed in (see augmentImage). */
  autoencoder?: PatchAutoencoder;
  architecture?: Readonly<EvaluatorArchitecture>;
  augmentation?: Readonly<AugmentationOptions>;
  steps: number;
  batchSize?: number;
  learningRate?: number;
  weightDecay?: number;
  warmupSteps?: number;
  /** Seeds the initial weights, the batches and their augmentations. */
  seed?: number;
  /** The tfjs engine (default: the best one installed). */
  engine?: EngineName;
  /** Validation accuracy every this many steps (and at the end). */
  validateEvery?: number;
  onLog?: (entry: TrainingLogEntry) => void;
}

export interface TrainingLogEntry {
  step: number;
  loss: number;
  learningRate: number;
  /** Clean accuracy on the validation images, on validation steps. */
  validationAccuracy?: number;
  seconds: number;
}

export interface TrainedEvaluator {
  architecture: EvaluatorArchitecture;
  /** The settings the run used, defaults filled in. */
  hyperparameters: {
    seed: number;
    batchSize: number;
    learningRate: number;
    weightDecay: number;
    warmupSteps: number;
    augmentation: AugmentationOptions;
  };
  /** The trained weights by parameter name. */
  weights: Map<string, Float32Array>;
  steps: number;
  /** Mean loss over the last tenth of the steps. */
  finalLoss: number;
  seconds: number;
  /** Process CPU time (user + system) spent training. */
  cpuSeconds: number;
  engine: EngineName;
  history: TrainingLogEntry[];
}

function imageSize(set: LabelledImages, architecture: EvaluatorArchitecture, what: string): number {
  const per = 3 * architecture.imageSize ** 2;
  if (set.count < 1 || set.images.length !== set.count * per || set.labels.length !== set.count) {
    throw new InvalidArgumentError(
      `${what}: expected ${set.count} images of ${per} values and ${set.count} labels, got ${set.images.length} values and ${set.labels.length} labels`,
    );
  }
  return per;
}

/**
 * The batch of step `step`: images drawn uniformly from the training set, each augmented
 * with its own random stream, so a batch depends only on (seed, step).
 */
export function trainingBatch(
  train: LabelledImages,
  step: number,
  options: {
    batchSize: number;
    seed: number;
    pixels: number;
    autoencoder?: PatchAutoencoder;
    augmentation: Readonly<AugmentationOptions>;
  },
): { images: Float32Array; labels: Int32Array } {
  const { batchSize, seed, pixels } = options;
  const picker = new SampleRandom(seed, step);
  const images = new Float32Array(batchSize * pixels);
  const labels = new Int32Array(batchSize);
  for (let i = 0; i < batchSize; i++) {
    const index = picker.int(train.count);
    const source = train.images.subarray(index * pixels, (index + 1) * pixels);
    const random = new SampleRandom(seed + 1, step * batchSize + i);
    images.set(augmentImage(source, random, options.autoencoder, options.augmentation), i * pixels);
    labels[i] = train.labels[index] as number;
  }
  return { images, labels };
}

function accuracyOn(graph: OnnxGraph, set: LabelledImages, pixels: number, size: number): number {
  const chunk = 500;
  let correct = 0;
  for (let start = 0; start < set.count; start += chunk) {
    const n = Math.min(chunk, set.count - start);
    const predicted = tf.tidy(() => {
      const x = tf.tensor4d(set.images.subarray(start * pixels, (start + n) * pixels), [n, 3, size, size]);
      const logits = graph.execute({ [EVALUATOR_INPUT]: x }, [EVALUATOR_OUTPUTS.logits])[
        EVALUATOR_OUTPUTS.logits
      ];
      return tf.argMax(logits as tf.Tensor, 1);
    });
    const values = predicted.dataSync();
    predicted.dispose();
    for (let i = 0; i < n; i++) if (values[i] === set.labels[start + i]) correct++;
  }
  return correct / set.count;
}

/**
 * Trains the evaluator network with tfjs: AdamW on softmax cross-entropy over augmented
 * batches, a cosine learning-rate schedule with warmup, gradient clipping at norm 1.
 */
export async function trainEvaluator(options: EvaluatorTrainingOptions): Promise<TrainedEvaluator> {
  const architecture = { ...(options.architecture ?? DEFAULT_EVALUATOR_ARCHITECTURE) };
  const pixels = imageSize(options.train, architecture, 'training set');
  if (options.validation) imageSize(options.validation, architecture, 'validation set');
  const { steps, batchSize = 128, learningRate = 2e-3, weightDecay = 0.01, seed = 0 } = options;
  if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidArgumentError(
      `evaluator training: expected positive integer steps and batch size, got ${steps} and ${batchSize}`,
    );
  }
  const warmupSteps = options.warmupSteps ?? Math.min(100, Math.floor(steps / 10));
  const validateEvery = options.validateEvery ?? 100;
  const report = await selectEngine(options.engine === undefined ? {} : { engine: options.engine });
  const graph = new OnnxGraph(buildEvaluatorGraph(architecture, { seed }), {
    trainable: true,
    modelName: 'zoo-evaluator',
  });
  const optimizer = new AdamW({
    lr: learningRate,
    weightDecay,
    schedule: getCosineScheduleWithWarmup({ numWarmupSteps: warmupSteps, numTrainingSteps: steps }),
  });
  const batchOptions = {
    batchSize,
    seed,
    pixels,
    autoencoder: options.autoencoder,
    augmentation: options.augmentation ?? DEFAULT_AUGMENTATION,
  };
  const size = architecture.imageSize;
  const history: TrainingLogEntry[] = [];
  const losses: number[] = [];
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  try {
    for (let step = 0; step < steps; step++) {
      const batch = trainingBatch(options.train, step, batchOptions);
      const x = tf.tensor4d(batch.images, [batchSize, 3, size, size]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(batch.labels, 'int32'), architecture.numClasses));
      let result: Awaited<ReturnType<typeof trainStep>>;
      try {
        result = await trainStep({
          optimizer,
          variables: graph.variables,
          maxGradNorm: 1,
          loss: () => {
            const out = graph.execute({ [EVALUATOR_INPUT]: x }, [EVALUATOR_OUTPUTS.logits]);
            return tf.losses.softmaxCrossEntropy(y, out[EVALUATOR_OUTPUTS.logits] as tf.Tensor);
          },
        });
      } finally {
        x.dispose();
        y.dispose();
      }
      losses.push(result.loss);
      const last = step === steps - 1;
      if ((step + 1) % validateEvery === 0 || last) {
        const entry: TrainingLogEntry = {
          step: step + 1,
          loss: result.loss,
          learningRate: result.learningRate,
          seconds: (performance.now() - started) / 1000,
          ...(options.validation
            ? { validationAccuracy: accuracyOn(graph, options.validation, pixels, size) }
            : {}),
        };
        history.push(entry);
        options.onLog?.(entry);
      }
    }
    const cpu = process.cpuUsage(cpuStart);
    const tail = losses.slice(-Math.max(1, Math.floor(steps / 10)));
    const weights = new Map<string, Float32Array>();
    for (const [name, variable] of graph.variables) {
      weights.set(name, Float32Array.from((await variable.data()) as Float32Array));
    }
    return {
      architecture,
      hyperparameters: {
        seed,
        batchSize,
        learningRate,
        weightDecay,
        warmupSteps,
        augmentation: { ...batchOptions.augmentation },
      },
      weights,
      steps,
      finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length,
      seconds: (performance.now() - started) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      engine: report.engine,
      history,
    };
  } finally {
    optimizer.dispose();
    graph.dispose();
  }
}

/** The trained evaluator as ONNX bytes. */
export function trainedEvaluatorModel(
  trained: TrainedEvaluator,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  return encodeModel(buildEvaluatorGraph(trained.architecture, { weights: trained.weights, metadata }));
}
