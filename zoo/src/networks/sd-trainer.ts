import { makeAlphasCumprod } from '@noiserefine/core';
import { encodeModel } from '@noiserefine/onnx';
import { OnnxGraph } from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { GraphTrainer, type RegressionTrainingSettings } from '../training/graph-trainer';
import { zooTimeIds } from './sd-conditioning';
import { type CaptionConditioning, type DDPMBatch, DDPMBatches } from './sd-ddpm-batches';
import { type SDFamily, sdFamily } from './sd-families';
import { buildSDUNet, TIME_IDS_LENGTH, type TimestepInput, UNET_IO } from './sd-unet';

/** Everything that determines a tiny SD training run; a checkpoint only resumes an equal config. */
export interface SDTrainingConfig extends RegressionTrainingSettings {
  family: SDFamily['name'];
  /** Seeds the initial weights, the data order and every batch's draws. */
  seed: number;
  batchSize: number;
  /** Captions replaced by the empty prompt (SD: 10%), which trains the unconditional model. */
  captionDropout: number;
}

export interface SDTrainingData {
  /** Scaled latents [count, 4, 8, 8], flattened. */
  latents: Float32Array;
  conditioning: CaptionConditioning;
  /** Side of the images in pixels, for SDXL's time_ids. */
  imageSize: number;
}

/** The noise schedule the folder's scheduler uses (and training must match). */
export function familyAlphasCumprod(family: SDFamily): Float32Array {
  const config = family.scheduler().toConfig();
  return makeAlphasCumprod({
    numTrainTimesteps: Number(config.num_train_timesteps),
    betaStart: Number(config.beta_start),
    betaEnd: Number(config.beta_end),
    betaSchedule: config.beta_schedule as 'scaled_linear',
    trainedBetas: null,
    rescaleBetasZeroSnr: config.rescale_betas_zero_snr === true,
  });
}

/** Training feeds one timestep per sample; a scalar-timestep export shares the weights of this graph. */
function trainingTimestepInput(family: SDFamily): TimestepInput {
  const input = family.unet.timestepInput;
  return input.dtype === 'int64' ? input : { dtype: 'float32', rank: 1 };
}

/**
 * A GraphTrainer for a tiny SD family: the UNet (built per-sample-timestep) on the tfjs engine
 * that is active, regressed onto the DDPM target (ε or v) of cached latents and prompt
 * conditioning. The text encoders are frozen: their outputs come in with the data.
 */
export class SDTrainer extends GraphTrainer<DDPMBatch> {
  readonly family: SDFamily;
  readonly batches: DDPMBatches;
  readonly config: SDTrainingConfig;

  constructor(config: SDTrainingConfig, data: SDTrainingData) {
    const family = sdFamily(config.family);
    const { inChannels: c, sampleSize: s } = family.unet;
    const batches = new DDPMBatches({
      latents: data.latents,
      sampleSize: c * s * s,
      conditioning: data.conditioning,
      batchSize: config.batchSize,
      captionDropout: config.captionDropout,
      predictionType: family.predictionType,
      alphasCumprod: familyAlphasCumprod(family),
      seed: config.seed,
    });
    const timestepInput = trainingTimestepInput(family);
    const graph = new OnnxGraph(buildSDUNet(family.unet, { seed: config.seed, timestepInput }), {
      trainable: true,
      modelName: `${family.name}-unet`,
    });
    const { conditioning } = data;
    const timeIds = Float32Array.from(zooTimeIds(data.imageSize));
    super({
      graph,
      output: UNET_IO.output,
      settings: config,
      runConfig: config,
      batchAt: (step) => batches.batch(step),
      toFeeds: (batch) => {
        const b = batch.timesteps.length;
        const feeds: Record<string, tf.Tensor> = {
          [UNET_IO.sample]: tf.tensor(batch.noisy, [b, c, s, s], 'float32'),
          [UNET_IO.timestep]:
            timestepInput.dtype === 'int64'
              ? tf.tensor(batch.timesteps, [b], 'int32')
              : tf.tensor(Float32Array.from(batch.timesteps), [b], 'float32'),
          [UNET_IO.encoderHiddenStates]: tf.tensor(
            batch.context,
            [b, conditioning.seq, conditioning.dim],
            'float32',
          ),
        };
        if (family.unet.addition) {
          feeds[UNET_IO.textEmbeds] = tf.tensor(batch.pooled as Float32Array, [
            b,
            conditioning.pooledDim as number,
          ]);
          feeds[UNET_IO.timeIds] = tf.tile(tf.tensor(timeIds, [1, TIME_IDS_LENGTH]), [b, 1]);
        }
        return { feeds, target: tf.tensor(batch.target, [b, c, s, s], 'float32') };
      },
    });
    this.family = family;
    this.batches = batches;
    this.config = config;
  }

  /** The UNet with the family's export interface (its timestep dtype and rank) and the trained weights. */
  async exportUNet(weights: 'current' | 'ema' = 'ema'): Promise<Uint8Array> {
    const values = await this.weights(weights);
    return encodeModel(
      buildSDUNet(this.family.unet, { weights: values, metadata: { family: this.family.name } }),
    );
  }
}
