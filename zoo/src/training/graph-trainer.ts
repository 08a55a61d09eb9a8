import { InvalidArgumentError } from '@noiserefine/core';
import {
  AdamW,
  exportOnnx,
  getCosineScheduleWithWarmup,
  loadCheckpoint,
  type OnnxGraph,
  saveCheckpoint,
  trainStep,
} from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';

/** Optimisation settings of a regression training (the network and data are the caller's). */
export interface RegressionTrainingSettings {
  totalSteps: number;
  warmupSteps: number;
  /** Peak learning rate (AdamW), reached after a linear warmup and decayed by a cosine to 0. */
  learningRate: number;
  weightDecay: number;
  /** Decay of the exponential moving average of the weights; 0 keeps none. */
  emaDecay: number;
  /** Clips the global gradient norm when set. */
  maxGradNorm?: number;
}

/** A batch as graph feeds plus the regression target of one output; the trainer disposes them. */
export interface RegressionFeeds {
  feeds: Record<string, tf.Tensor>;
  target: tf.Tensor;
}

export interface GraphTrainerOptions<Batch> {
  /** The network with its initializers loaded as trainable variables. */
  graph: OnnxGraph;
  /** The graph output regressed onto the target (mean squared error). */
  output: string;
  settings: RegressionTrainingSettings;
  /** Everything that defines the run; a checkpoint only resumes a run with an equal config. */
  runConfig: unknown;
  /** The batch of optimizer step `step`: a pure function of the step, so a resumed run sees the same data. */
  batchAt: (step: number) => Batch;
  toFeeds: (batch: Batch) => RegressionFeeds;
}

export interface GraphTrainerStep {
  step: number;
  loss: number;
  learningRate: number;
  gradNorm?: number;
}

/** Variables of the moving average are checkpointed next to the weights under this prefix. */
export const EMA_PREFIX = 'ema.';

/**
 * Trains an ONNX graph on the active tfjs engine by mean squared error against a target:
 * AdamW with warmup and cosine decay, an optional moving average of the weights (with DiT's
 * warmup of the decay), evaluation on fixed batches, checkpoints holding weights, average and
 * optimizer state (so a resumed run continues exactly), and export of the trained graph.
 */
export class GraphTrainer<Batch> {
  readonly graph: OnnxGraph;
  readonly optimizer: AdamW;
  readonly settings: RegressionTrainingSettings;
  /** Moving averages by parameter name (empty when emaDecay is 0). */
  readonly ema: ReadonlyMap<string, tf.Variable>;
  readonly #options: GraphTrainerOptions<Batch>;

  constructor(options: GraphTrainerOptions<Batch>) {
    const { totalSteps, warmupSteps, emaDecay, learningRate, weightDecay } = options.settings;
    if (
      !Number.isInteger(totalSteps) ||
      totalSteps < 1 ||
      !Number.isInteger(warmupSteps) ||
      warmupSteps < 0
    ) {
      throw new InvalidArgumentError(
        `training: expected totalSteps ≥ 1 and warmupSteps ≥ 0 (integers), got ${totalSteps} and ${warmupSteps}`,
      );
    }
    if (!(emaDecay >= 0 && emaDecay < 1)) {
      throw new InvalidArgumentError(`training: expected emaDecay in [0, 1), got ${emaDecay}`);
    }
    if (options.graph.variables.size === 0) {
      throw new InvalidArgumentError(
        'training: the graph has no trainable variables (load it with trainable: true)',
      );
    }
    this.#options = options;
    this.graph = options.graph;
    this.settings = options.settings;
    this.optimizer = new AdamW({
      lr: learningRate,
      weightDecay,
      schedule: getCosineScheduleWithWarmup({ numWarmupSteps: warmupSteps, numTrainingSteps: totalSteps }),
    });
    const ema = new Map<string, tf.Variable>();
    if (emaDecay > 0) {
      for (const [name, v] of this.graph.variables) ema.set(name, tf.variable(v.clone(), false));
    }
    this.ema = ema;
  }

  /** Optimizer steps taken (the step the next call trains). */
  get step(): number {
    return this.optimizer.stepCount;
  }

  get done(): boolean {
    return this.step >= this.settings.totalSteps;
  }

  checkpointVariables(): Map<string, tf.Variable> {
    const all = new Map(this.graph.variables);
    for (const [name, v] of this.ema) all.set(`${EMA_PREFIX}${name}`, v);
    return all;
  }

  #lossOf(batch: Batch): { loss: () => tf.Scalar; dispose: () => void } {
    const { feeds, target } = this.#options.toFeeds(batch);
    const output = this.#options.output;
    return {
      loss: () => {
        const out = this.graph.execute(feeds, [output])[output] as tf.Tensor;
        return tf.mean(tf.square(tf.sub(out, target))) as tf.Scalar;
      },
      dispose: () => {
        for (const t of Object.values(feeds)) t.dispose();
        target.dispose();
      },
    };
  }

  /** One optimizer step on the batch of the current step, then the moving-average update. */
  async trainStep(): Promise<GraphTrainerStep> {
    if (this.done) throw new InvalidArgumentError(`training: all ${this.settings.totalSteps} steps are done`);
    const step = this.step;
    const { loss, dispose } = this.#lossOf(this.#options.batchAt(step));
    try {
      const { maxGradNorm } = this.settings;
      const result = await trainStep({
        loss,
        optimizer: this.optimizer,
        variables: this.graph.variables,
        ...(maxGradNorm === undefined ? {} : { maxGradNorm }),
      });
      this.#updateEma(step);
      return { step, ...result };
    } finally {
      dispose();
    }
  }

  #updateEma(step: number): void {
    if (this.ema.size === 0) return;
    const decay = Math.min(this.settings.emaDecay, (1 + step) / (10 + step));
    tf.tidy(() => {
      for (const [name, avg] of this.ema) {
        const v = this.graph.variables.get(name) as tf.Variable;
        avg.assign(tf.add(tf.mul(avg, decay), tf.mul(v, 1 - decay)));
      }
    });
  }

  /** Mean loss over fixed batches without an update: comparable across steps, unlike the training loss. */
  async evaluate(batches: readonly Batch[], weights: 'current' | 'ema' = 'current'): Promise<number> {
    return this.withWeights(weights, async () => {
      let sum = 0;
      for (const batch of batches) {
        const { loss, dispose } = this.#lossOf(batch);
        const value = tf.tidy(loss);
        sum += ((await value.data()) as Float32Array)[0] as number;
        value.dispose();
        dispose();
      }
      return sum / batches.length;
    });
  }

  /** Runs `body` with the moving average swapped into the graph's variables, then swaps back. */
  async withWeights<T>(weights: 'current' | 'ema', body: () => Promise<T>): Promise<T> {
    if (weights === 'current' || this.ema.size === 0) return body();
    const saved = new Map([...this.graph.variables].map(([name, v]) => [name, v.clone()]));
    try {
      for (const [name, avg] of this.ema) this.graph.variables.get(name)?.assign(avg);
      return await body();
    } finally {
      for (const [name, copy] of saved) {
        this.graph.variables.get(name)?.assign(copy);
        copy.dispose();
      }
    }
  }

  /** The trained graph as ONNX bytes (the moving average by default, when kept). */
  async exportOnnx(weights: 'current' | 'ema' = 'ema'): Promise<Uint8Array> {
    return this.withWeights(weights, () => exportOnnx(this.graph));
  }

  /** Parameter values by name, as the network builders take them back. */
  async weights(which: 'current' | 'ema' = 'ema'): Promise<Map<string, Float32Array>> {
    const source = which === 'ema' && this.ema.size > 0 ? this.ema : this.graph.variables;
    const out = new Map<string, Float32Array>();
    for (const [name, v] of source) out.set(name, Float32Array.from((await v.data()) as Float32Array));
    return out;
  }

  async saveCheckpoint(dir: string, metadata: Record<string, unknown> = {}): Promise<void> {
    await saveCheckpoint(dir, {
      variables: this.checkpointVariables(),
      optimizer: this.optimizer,
      step: this.step,
      metadata: { ...metadata, config: this.#options.runConfig },
    });
  }

  /** Restores a checkpoint of a run with the same config; returns the step it resumes at. */
  async loadCheckpoint(
    dir: string,
  ): Promise<{ step: number; metadata: Record<string, unknown> | undefined }> {
    const loaded = await loadCheckpoint(dir, {
      variables: this.checkpointVariables(),
      optimizer: this.optimizer,
    });
    const saved = JSON.stringify(loaded.metadata?.config);
    const running = JSON.stringify(this.#options.runConfig);
    if (saved !== undefined && saved !== running) {
      throw new InvalidArgumentError(
        `checkpoint "${dir}" belongs to another training config: saved ${saved}, running ${running}`,
      );
    }
    if (loaded.step !== this.optimizer.stepCount) {
      throw new InvalidArgumentError(
        `checkpoint "${dir}": step ${loaded.step} disagrees with the optimizer's step count ${this.optimizer.stepCount}`,
      );
    }
    return { step: loaded.step, metadata: loaded.metadata };
  }

  /**
   * Starts a new run from the weights (and moving average) of another run's checkpoint,
   * with a fresh optimizer and schedule: longer training without redoing the first run.
   */
  async initFrom(dir: string): Promise<{ step: number; metadata: Record<string, unknown> | undefined }> {
    if (this.step !== 0) {
      throw new InvalidArgumentError(
        `training: initFrom("${dir}") needs a new run, this one is at step ${this.step}`,
      );
    }
    const loaded = await loadCheckpoint(dir, { variables: this.checkpointVariables() });
    return { step: loaded.step, metadata: loaded.metadata };
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const v of this.ema.values()) v.dispose();
    this.graph.dispose();
  }
}
