import { OnnxGraph } from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { buildSiT, SIT_IO, type SiTNetworkConfig } from '../networks/sit';
import { type FlowMatchingBatch, FlowMatchingBatches } from './flow-matching-batches';
import { GraphTrainer, type RegressionTrainingSettings } from './graph-trainer';

/** Everything that determines a training run; a checkpoint only resumes a run with the same config. */
export interface SiTTrainingConfig extends RegressionTrainingSettings {
  network: SiTNetworkConfig;
  /** Seeds the initial weights, the data order and every batch's noise. */
  seed: number;
  batchSize: number;
  /** SiT/DiT drop 10% of the labels to the null class, which trains the unconditional model. */
  labelDropout: number;
}

export interface LatentTrainingData {
  /** Scaled latents [count, C, H, W], flattened. */
  latents: Float32Array;
  labels: ArrayLike<number>;
}

/**
 * Trains a SiT network with the flow-matching objective (velocity regression on the linear
 * interpolant, label dropout) on the active tfjs engine: the ONNX graph from buildSiT runs on
 * tfjs ops with its initializers as variables. The batch of step s depends only on
 * (seed, s), and checkpoints hold weights, moving average and optimizer state, so a resumed
 * run continues bit for bit where it stopped.
 */
export class SiTTrainer extends GraphTrainer<FlowMatchingBatch> {
  readonly config: SiTTrainingConfig;
  readonly batches: FlowMatchingBatches;

  constructor(config: SiTTrainingConfig, data: LatentTrainingData) {
    const { network } = config;
    const batches = new FlowMatchingBatches({
      latents: data.latents,
      labels: data.labels,
      sampleSize: network.inChannels * network.inputSize * network.inputSize,
      batchSize: config.batchSize,
      numClasses: network.numClasses,
      labelDropout: config.labelDropout,
      seed: config.seed,
    });
    const sampleShape = [network.inChannels, network.inputSize, network.inputSize];
    super({
      graph: new OnnxGraph(buildSiT(network, { seed: config.seed }), { trainable: true, modelName: 'sit' }),
      output: SIT_IO.output,
      settings: config,
      runConfig: config,
      batchAt: (step) => batches.batch(step),
      toFeeds: (batch) => ({
        feeds: {
          [SIT_IO.x]: tf.tensor(batch.xt, [batch.t.length, ...sampleShape], 'float32'),
          [SIT_IO.t]: tf.tensor(batch.t, [batch.t.length], 'float32'),
          [SIT_IO.y]: tf.tensor(batch.y, [batch.t.length], 'int32'),
        },
        target: tf.tensor(batch.target, [batch.t.length, ...sampleShape], 'float32'),
      }),
    });
    this.config = config;
    this.batches = batches;
  }
}
