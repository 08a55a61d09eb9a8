import { InvalidArgumentError } from '@noiserefine/core';
import {
  AdamW,
  exportOnnx,
  getCosineScheduleWithWarmup,
  loadCheckpoint,
  OnnxGraph,
  saveCheckpoint,
  trainStep,
} from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { buildSiT, SIT_IO, type SiTNetworkConfig } from '../networks/sit';
import { type FlowMatchingBatch, FlowMatchingBatches } from './flow-matching-batches';

/** Everything that determines a training run; a checkpoint only resumes a run with the same config. */
export interface SiTTrainingConfig {
  network: SiTNetworkConfig;
  /** Seeds the initial weights, the data order and every batch's noise. */
  seed: number;
  batchSize: number;
  totalSteps: number;
  warmupSteps: number;
  /** Peak learning rate (AdamW), reached after the warmup and decayed by a cosine to 0. */
  learningRate: number;
  weightDecay: number;
  /** SiT/DiT drop 10% of the labels to the null class, which trains the unconditional model. */
  labelDropout: number;
  /** Decay of the exponential moving average of the weights; 0 keeps none. */
  emaDecay: number;
  /** Clips the global gradient norm when set. */
  maxGradNorm?: number;
}

export interface LatentTrainingData {
  /** Scaled latents [count, C, H, W], flattened. */
  latents: Float32Array;
  labels: ArrayLike<number>;
}

export interface SiTStepResult {
  step: number;
  loss: number;
  learningRate: number;
  gradNorm?: number;
}

/** Variables of the moving average are checkpointed next to the weights under this prefix. */
export const EMA_PREFIX = 'ema.';

/**
 * Trains a SiT network with the flow-matching objective on the tfjs engine that is active:
 * the ONNX graph from buildSiT runs on tfjs ops with its initializers as variables, AdamW
 * with linear warmup and cosine decay updates them, and an optional moving average of the
 * weights is kept for export. The batch of step s depends only on (seed, s), and the
 * checkpoint holds the weights, the average and the optimizer state, so a resumed run
 * continues bit for bit where it stopped.
 */
export class SiTTrainer {
  readonly config: SiTTrainingConfig;
  readonly graph: OnnxGraph;
  readonly optimizer: AdamW;
  readonly batches: FlowMatchingBatches;
  /** Moving averages by parameter name (empty when emaDecay is 0). */
  readonly ema: ReadonlyMap<string, tf.Variable>;

  constructor(config: SiTTrainingConfig, data: LatentTrainingData) {
    const { network, totalSteps, warmupSteps, emaDecay } = config;
    if (
      !Number.isInteger(totalSteps) ||
      totalSteps < 1 ||
      !Number.isInteger(warmupSteps) ||
      warmupSteps < 0
    ) {
      throw new InvalidArgumentError(
        `SiT training: expected totalSteps ≥ 1 and warmupSteps ≥ 0 (integers), got ${totalSteps} and ${warmupSteps}`,
      );
    }
    if (!(emaDecay >= 0 && emaDecay < 1)) {
      throw new InvalidArgumentError(`SiT training: expected emaDecay in [0, 1), got ${emaDecay}`);
    }
    this.config = config;
    this.batches = new FlowMatchingBatches({
      latents: data.latents,
      labels: data.labels,
      sampleSize: network.inChannels * network.inputSize * network.inputSize,
      batchSize: config.batchSize,
      numClasses: network.numClasses,
      labelDropout: config.labelDropout,
      seed: config.seed,
    });
    this.graph = new OnnxGraph(buildSiT(network, { seed: config.seed }), {
      trainable: true,
      modelName: 'sit',
    });
    this.optimizer = new AdamW({
      lr: config.learningRate,
      weightDecay: config.weightDecay,
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
    return this.step >= this.config.totalSteps;
  }

  /** Weights, averages and optimizer state under stable names. */
  checkpointVariables(): Map<string, tf.Variable> {
    const all = new Map(this.graph.variables);
    for (const [name, v] of this.ema) all.set(`${EMA_PREFIX}${name}`, v);
    return all;
  }

  /** Mean squared error between the predicted and the true velocity. */
  #loss(batch: FlowMatchingBatch): { loss: () => tf.Scalar; inputs: tf.Tensor[] } {
    const { inChannels: c, inputSize: s } = this.config.network;
    const b = batch.t.length;
    const x = tf.tensor(batch.xt, [b, c, s, s], 'float32');
    const t = tf.tensor(batch.t, [b], 'float32');
    const y = tf.tensor(batch.y, [b], 'int32');
    const target = tf.tensor(batch.target, [b, c, s, s], 'float32');
    const loss = () => {
      const out = this.graph.execute({ [SIT_IO.x]: x, [SIT_IO.t]: t, [SIT_IO.y]: y }, [SIT_IO.output]);
      return tf.mean(tf.square(tf.sub(out[SIT_IO.output] as tf.Tensor, target))) as tf.Scalar;
    };
    return { loss, inputs: [x, t, y, target] };
  }

  /** One optimizer step on the batch of the current step, then the moving-average update. */
  async trainStep(): Promise<SiTStepResult> {
    if (this.done) {
      throw new InvalidArgumentError(`SiT training: all ${this.config.totalSteps} steps are done`);
    }
    const step = this.step;
    const { loss, inputs } = this.#loss(this.batches.batch(step));
    try {
      const result = await trainStep({
        loss,
        optimizer: this.optimizer,
        variables: this.graph.variables,
        ...(this.config.maxGradNorm === undefined ? {} : { maxGradNorm: this.config.maxGradNorm }),
      });
      this.#updateEma(step);
      return { step, ...result };
    } finally {
      for (const t of inputs) t.dispose();
    }
  }

  /** DiT's average with a warmup of the decay, so early weights do not dominate a short run. */
  #updateEma(step: number): void {
    if (this.ema.size === 0) return;
    const decay = Math.min(this.config.emaDecay, (1 + step) / (10 + step));
    tf.tidy(() => {
      for (const [name, avg] of this.ema) {
        const v = this.graph.variables.get(name) as tf.Variable;
        avg.assign(tf.add(tf.mul(avg, decay), tf.mul(v, 1 - decay)));
      }
    });
  }

  /**
   * Mean loss over fixed batches (no dropout, no update), with the current weights or the
   * moving average: comparable across steps, unlike the noisy training loss.
   */
  async evaluate(
    batches: readonly FlowMatchingBatch[],
    weights: 'current' | 'ema' = 'current',
  ): Promise<number> {
    return this.#withWeights(weights, async () => {
      let sum = 0;
      for (const batch of batches) {
        const { loss, inputs } = this.#loss(batch);
        const value = tf.tidy(loss);
        sum += ((await value.data()) as Float32Array)[0] as number;
        value.dispose();
        for (const t of inputs) t.dispose();
      }
      return sum / batches.length;
    });
  }

  /** Runs `body` with the moving average swapped into the graph's variables, then swaps back. */
  async #withWeights<T>(weights: 'current' | 'ema', body: () => Promise<T>): Promise<T> {
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

  /** The network as ONNX bytes with the trained weights (the moving average by default, when kept). */
  async exportOnnx(weights: 'current' | 'ema' = 'ema'): Promise<Uint8Array> {
    return this.#withWeights(weights, () => exportOnnx(this.graph));
  }

  /** Parameter values by name, as buildSiT takes them back. */
  async weights(which: 'current' | 'ema' = 'current'): Promise<Map<string, Float32Array>> {
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
      metadata: { ...metadata, config: this.config },
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
    const saved = loaded.metadata?.config;
    if (saved !== undefined && JSON.stringify(saved) !== JSON.stringify(this.config)) {
      throw new InvalidArgumentError(
        `checkpoint "${dir}" belongs to another training config: saved ${JSON.stringify(saved)}, running ${JSON.stringify(this.config)}`,
      );
    }
    if (loaded.step !== this.optimizer.stepCount) {
      throw new InvalidArgumentError(
        `checkpoint "${dir}": step ${loaded.step} disagrees with the optimizer's step count ${this.optimizer.stepCount}`,
      );
    }
    return { step: loaded.step, metadata: loaded.metadata };
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const v of this.ema.values()) v.dispose();
    this.graph.dispose();
  }
}
