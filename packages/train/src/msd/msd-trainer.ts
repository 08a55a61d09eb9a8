import { createHash } from 'node:crypto';
import { access, appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  InvalidArgumentError,
  ModelLoadError,
  ModelSignatureError,
  msdLoss,
  type RefinerMetadata,
  ShapeMismatchError,
  shapesEqual,
} from '@noiserefine/core';
import {
  AdamW,
  type ConvolutionMode,
  getCosineScheduleWithWarmup,
  loadCheckpoint,
  saveCheckpoint,
  type TfjsBackend,
  trainStep,
} from '@noiserefine/tfjs';
import type { TargetDataset } from '../targets/target-dataset';
import type { TargetManifest } from '../targets/target-format';
import { TargetMixture } from '../targets/target-mixture';
import type { TrainingModel } from '../training-model';
import { type DataCursor, DataOrder } from './data-order';
import { type RefinerArchitecture, type RefinerGuidanceEmbedding, RefinerNetwork } from './refiner-network';
import { unguidedEnd } from './unguided-trajectory';
import { type ValidationReport, validateRefiner } from './validation';

export interface MsdTrainingOptions {
  /** Holds checkpoint/, validation/ and refiner/; a checkpoint there is resumed. */
  outputDir: string;
  refiner: RefinerArchitecture;
  /** Optimizer steps in all. */
  maxSteps: number;
  /** N: steps of the unguided trajectory (default 10, as the paper). */
  numInferenceSteps?: number;
  batchSize?: number;
  /** AdamW (default lr 1e-4, weight decay 0.01), cosine schedule after a linear warmup. */
  learningRate?: number;
  weightDecay?: number;
  warmupSteps?: number;
  /** Clips the global gradient norm (default 1; 0 turns clipping off). */
  maxGradNorm?: number;
  /** Seeds the refiner's initial weights and the data order (default 0). */
  seed?: number;
  /** The last samples of the dataset (of each folder) held out for validation (default 8, fewer for tiny sets). */
  validationSamples?: number;
  /** Validate (loss and PNG grid) every K steps; 0: only at the end (default 0). */
  validateEvery?: number;
  /** Checkpoint every K steps (default 100) and at the end or on interruption. */
  checkpointEvery?: number;
  /** tfjs convolutions: 'patches' trains on every engine (default on wasm). */
  convolution?: ConvolutionMode;
  /**
   * Condition the refiner on the guidance scale (paper App. A.4): the targets must come from
   * folders made at two or more CFG scales, and each sample is fed its folder's scale.
   */
  guidanceConditioned?: boolean;
  /** How w is embedded (sinusoid width, timestep-embedding pattern); see addGuidanceEmbedding. */
  guidanceEmbedding?: RefinerGuidanceEmbedding;
}

type ResolvedOptions = Required<Omit<MsdTrainingOptions, 'convolution' | 'guidanceEmbedding'>> &
  Pick<MsdTrainingOptions, 'guidanceEmbedding'>;

export interface MsdStepReport {
  step: number;
  loss: number;
  learningRate: number;
  gradNorm?: number;
  epoch: number;
  seconds: number;
}

export interface TrainResult {
  step: number;
  /** True when the signal stopped the run (a checkpoint was saved first). */
  interrupted: boolean;
  validation?: ValidationReport;
}

const CHECKPOINT_FORMAT = 'noiserefine-msd-training';

interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  cursor: DataCursor;
  /** Hash of what must not change across a resume: settings, dataset, base model. */
  fingerprint: string;
  settings: Record<string, unknown>;
  lastLoss?: number;
}

/** The trainer's state in a checkpoint's manifest, read before any tensor is restored. */
async function readCheckpointState(dir: string): Promise<CheckpointState | undefined> {
  const file = join(dir, 'checkpoint.json');
  try {
    const manifest = JSON.parse(await readFile(file, 'utf8')) as { metadata?: CheckpointState };
    return manifest.metadata;
  } catch (error) {
    throw new ModelLoadError(file, `no readable checkpoint manifest (${String(error)})`, { cause: error });
  }
}

function positiveInteger(value: number, what: string, allowZero = false): number {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new InvalidArgumentError(
      `MSD training: expected ${what} to be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${value}`,
    );
  }
  return value;
}

/** Checks the dataset was made by this model; typed errors name the mismatch. */
export function checkDatasetMatchesModel(dataset: TargetDataset, model: TrainingModel): void {
  const m = dataset.manifest;
  if (m.family !== model.family || m.base_model !== model.baseModel) {
    throw new ModelSignatureError(
      `targets in ${dataset.dir} were made for ${m.family} model "${m.base_model}", expected ${model.family} model "${model.baseModel}"`,
    );
  }
  if (!shapesEqual(m.latent_shape, model.latentShape)) {
    throw new ShapeMismatchError(
      `targets in ${dataset.dir}: latent shape`,
      [...model.latentShape],
      m.latent_shape,
    );
  }
}

/**
 * Trains a noise refiner with Multistep Score Distillation (paper Sec. 3.3): per batch,
 * x̂_T = x_T + g(x_T, c) on tfjs; the unguided N-step trajectory from x̂_T runs forward only
 * on the inference backend with the frozen denoiser; then msdLoss on tfjs gives the refiner
 * the gradient 2·(∏ a_t)·(x̂_0 − x0_guide)/n through x̂_T alone. AdamW with warmup + cosine,
 * checkpoints that resume bit for bit (weights, optimizer state, data cursor), validation
 * grids, and an exported refiner folder.
 */
export class MsdTrainer {
  #step = 0;
  #order: DataOrder;
  #baseline: { loss: number; ends: Float32Array } | undefined;
  #lastLoss: number | undefined;
  #lastValidation: ValidationReport | undefined;

  private constructor(
    readonly model: TrainingModel,
    /** The target folders as one sample list (one folder, or several at different guidance scales). */
    readonly dataset: TargetMixture,
    readonly network: RefinerNetwork,
    readonly optimizer: AdamW,
    readonly options: ResolvedOptions,
    readonly trainIndices: readonly number[],
    readonly validationIndices: readonly number[],
    readonly fingerprint: string,
  ) {
    this.#order = new DataOrder(trainIndices, options.seed);
  }

  /** `targets`: one folder, or several (made at different guidance scales for a guidance-conditioned refiner). */
  static async create(
    model: TrainingModel,
    targets: TargetDataset | readonly TargetDataset[],
    tfjs: TfjsBackend,
    options: MsdTrainingOptions,
  ): Promise<MsdTrainer> {
    const parts: readonly TargetDataset[] = Array.isArray(targets) ? targets : [targets as TargetDataset];
    for (const part of parts) checkDatasetMatchesModel(part, model);
    const dataset = new TargetMixture(parts);
    const guidanceConditioned = options.guidanceConditioned ?? false;
    dataset.checkGuidance(guidanceConditioned);
    const smallest = Math.min(...parts.map((p) => p.size));
    const resolved: ResolvedOptions = {
      outputDir: options.outputDir,
      refiner: options.refiner,
      maxSteps: positiveInteger(options.maxSteps, 'maxSteps'),
      numInferenceSteps: positiveInteger(options.numInferenceSteps ?? 10, 'numInferenceSteps'),
      batchSize: positiveInteger(options.batchSize ?? 8, 'batchSize'),
      learningRate: options.learningRate ?? 1e-4,
      weightDecay: options.weightDecay ?? 0.01,
      warmupSteps: positiveInteger(options.warmupSteps ?? 0, 'warmupSteps', true),
      maxGradNorm: options.maxGradNorm ?? 1,
      seed: positiveInteger(options.seed ?? 0, 'seed', true),
      validationSamples: positiveInteger(
        options.validationSamples ?? Math.min(8, Math.floor(smallest / 4)),
        'validationSamples',
        true,
      ),
      validateEvery: positiveInteger(options.validateEvery ?? 0, 'validateEvery', true),
      checkpointEvery: positiveInteger(options.checkpointEvery ?? 100, 'checkpointEvery'),
      guidanceConditioned,
      ...(options.guidanceEmbedding ? { guidanceEmbedding: options.guidanceEmbedding } : {}),
    };
    const held = resolved.validationSamples;
    const split = dataset.split(held);
    // A plain one-folder run hashes exactly what it always did, so its checkpoints still resume.
    const settings = {
      refiner: resolved.refiner,
      maxSteps: resolved.maxSteps,
      numInferenceSteps: resolved.numInferenceSteps,
      batchSize: resolved.batchSize,
      learningRate: resolved.learningRate,
      weightDecay: resolved.weightDecay,
      warmupSteps: resolved.warmupSteps,
      maxGradNorm: resolved.maxGradNorm,
      seed: resolved.seed,
      validationSamples: held,
      ...(parts.length === 1 ? { manifest: parts[0]?.manifest } : { manifests: dataset.manifests }),
      ...(guidanceConditioned
        ? { guidanceConditioned, guidanceEmbedding: options.guidanceEmbedding ?? {} }
        : {}),
    };
    const fingerprint = createHash('sha256').update(JSON.stringify(settings)).digest('hex');
    const network = await RefinerNetwork.create(model, resolved.refiner, tfjs, {
      seed: resolved.seed,
      convolution: options.convolution,
      guidanceConditioned,
      ...(options.guidanceEmbedding ? { guidanceEmbedding: options.guidanceEmbedding } : {}),
    });
    const optimizer = new AdamW({
      lr: resolved.learningRate,
      weightDecay: resolved.weightDecay,
      schedule: getCosineScheduleWithWarmup({
        numWarmupSteps: resolved.warmupSteps,
        numTrainingSteps: resolved.maxSteps,
      }),
    });
    const trainer = new MsdTrainer(
      model,
      dataset,
      network,
      optimizer,
      resolved,
      split.train,
      split.validation,
      fingerprint,
    );
    await trainer.#resumeIfSaved();
    return trainer;
  }

  get step(): number {
    return this.#step;
  }

  get checkpointDir(): string {
    return join(this.options.outputDir, 'checkpoint');
  }

  get cursor(): DataCursor {
    return this.#order.cursor;
  }

  async #resumeIfSaved(): Promise<void> {
    try {
      await access(join(this.checkpointDir, 'checkpoint.json'));
    } catch {
      return;
    }
    // Settings first: another run's weights may not even fit this network's variables.
    const saved = await readCheckpointState(this.checkpointDir);
    if (saved?.format !== CHECKPOINT_FORMAT || saved.fingerprint !== this.fingerprint) {
      const before = JSON.stringify(saved?.settings ?? null);
      throw new InvalidArgumentError(
        `${this.checkpointDir} holds a checkpoint of another training run (settings ${before}); expected one with the same settings and targets, or use another output folder`,
      );
    }
    const loaded = await loadCheckpoint(this.checkpointDir, {
      variables: this.network.variables,
      optimizer: this.optimizer,
    });
    const state = loaded.metadata as unknown as CheckpointState;
    this.#step = loaded.step;
    this.#lastLoss = state.lastLoss;
    this.#order = new DataOrder(this.trainIndices, this.options.seed, state.cursor);
  }

  /** Writes the refiner weights, AdamW state and data cursor atomically. */
  async saveCheckpoint(): Promise<void> {
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT,
      version: 1,
      cursor: this.#order.cursor,
      fingerprint: this.fingerprint,
      settings: { ...this.options, outputDir: undefined },
      ...(this.#lastLoss === undefined ? {} : { lastLoss: this.#lastLoss }),
    };
    await saveCheckpoint(this.checkpointDir, {
      variables: this.network.variables,
      optimizer: this.optimizer,
      step: this.#step,
      metadata: state as unknown as Record<string, unknown>,
    });
  }

  /** One MSD optimizer step on the next batch. */
  async trainStep(): Promise<MsdStepReport> {
    const started = performance.now();
    const { batchSize, numInferenceSteps, maxGradNorm } = this.options;
    const indices = this.#order.nextBatch(batchSize);
    const shape = [batchSize, ...this.model.latentShape];
    const tensors = this.network.tfjs.tensors;
    const conditioned = await this.model.conditioned(indices.map((i) => this.dataset.condition(i)));
    const { feeds, dispose } = await this.network.feeds(
      conditioned.spec,
      batchSize,
      this.network.guidanceConditioned ? this.dataset.gatherGuidanceScales(indices) : undefined,
    );
    const noise = tensors.fromData(this.dataset.gatherNoises(indices), shape);
    const target = tensors.fromData(this.dataset.gatherTargets(indices), shape);
    try {
      const refined = await this.network.refineValues(noise, conditioned.spec, feeds);
      const end = await unguidedEnd(this.model, conditioned.spec, refined, batchSize, numInferenceSteps);
      const final = tensors.fromData(end.values, shape);
      try {
        const result = await trainStep({
          loss: () =>
            msdLoss(
              this.network.refine(noise, conditioned.spec, feeds),
              { final, jacobianScale: end.jacobianScale },
              target,
            ),
          optimizer: this.optimizer,
          variables: this.network.variables,
          ...(maxGradNorm > 0 ? { maxGradNorm } : {}),
        });
        this.#step++;
        this.#lastLoss = result.loss;
        return {
          step: this.#step,
          loss: result.loss,
          learningRate: result.learningRate,
          ...(result.gradNorm === undefined ? {} : { gradNorm: result.gradNorm }),
          epoch: this.#order.cursor.epoch,
          seconds: (performance.now() - started) / 1000,
        };
      } finally {
        final.dispose();
      }
    } finally {
      noise.dispose();
      target.dispose();
      dispose();
      conditioned.dispose();
    }
  }

  /** Held-out loss against the untrained baseline, and a PNG grid under validation/. */
  async validate(options: { image?: boolean } = {}): Promise<ValidationReport | undefined> {
    if (this.validationIndices.length === 0) return undefined;
    const dir = join(this.options.outputDir, 'validation');
    await mkdir(dir, { recursive: true });
    const report = await validateRefiner({
      network: this.network,
      model: this.model,
      dataset: this.dataset,
      indices: this.validationIndices,
      numInferenceSteps: this.options.numInferenceSteps,
      step: this.#step,
      ...(options.image === false ? {} : { imageDir: dir }),
      ...(this.#baseline ? { baseline: this.#baseline } : {}),
    });
    this.#baseline = { loss: report.baselineLoss, ends: report.baselineEnds };
    const { baselineEnds: _, ...record } = report;
    await appendFile(join(dir, 'metrics.jsonl'), `${JSON.stringify(record)}\n`);
    this.#lastValidation = record;
    return record;
  }

  /**
   * Trains until maxSteps: checkpoints every `checkpointEvery` steps, validates every
   * `validateEvery`, and when `signal` aborts, finishes the step in flight, saves a
   * checkpoint and returns (rerunning resumes exactly there).
   */
  async train(
    options: {
      signal?: AbortSignal;
      onStep?: (report: MsdStepReport) => void;
      onValidation?: (report: ValidationReport) => void;
    } = {},
  ): Promise<TrainResult> {
    const { maxSteps, checkpointEvery, validateEvery } = this.options;
    while (this.#step < maxSteps) {
      if (options.signal?.aborted) {
        await this.saveCheckpoint();
        return { step: this.#step, interrupted: true };
      }
      const report = await this.trainStep();
      options.onStep?.(report);
      if (this.#step % checkpointEvery === 0 && this.#step < maxSteps) await this.saveCheckpoint();
      if (validateEvery > 0 && this.#step % validateEvery === 0 && this.#step < maxSteps) {
        const v = await this.validate();
        if (v) options.onValidation?.(v);
      }
    }
    await this.saveCheckpoint();
    const validation = await this.validate();
    if (validation) options.onValidation?.(validation);
    return { step: this.#step, interrupted: false, ...(validation ? { validation } : {}) };
  }

  /** Writes the refiner folder (model.onnx with LoRA merged, config.json); default `<outputDir>/refiner`. */
  async exportRefiner(dir = join(this.options.outputDir, 'refiner')): Promise<RefinerMetadata> {
    const manifests = this.dataset.manifests;
    const m = manifests[0] as TargetManifest;
    const several = manifests.length > 1;
    return this.network.export(dir, {
      method: 'msd',
      steps: this.#step,
      num_inference_steps: this.options.numInferenceSteps,
      batch_size: this.options.batchSize,
      learning_rate: this.options.learningRate,
      architecture: this.options.refiner,
      target_guidance: several ? manifests.map((t) => t.guidance) : m.guidance,
      target_num_inference_steps: several
        ? manifests.map((t) => t.num_inference_steps)
        : m.num_inference_steps,
      target_samples: several ? manifests.map((t) => t.num_samples) : m.num_samples,
      ...(this.network.guidanceConditioned ? { guidance_scales: this.dataset.guidanceScales } : {}),
      ...(this.#lastLoss === undefined ? {} : { final_loss: this.#lastLoss }),
      ...(this.#lastValidation
        ? {
            validation_loss: this.#lastValidation.loss,
            validation_baseline_loss: this.#lastValidation.baselineLoss,
          }
        : {}),
    });
  }

  async dispose(): Promise<void> {
    this.optimizer.dispose();
    await this.network.dispose();
  }
}
