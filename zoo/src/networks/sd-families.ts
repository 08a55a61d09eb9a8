import {
  DDIMScheduler,
  EulerDiscreteScheduler,
  InvalidArgumentError,
  type Scheduler,
} from '@noiserefine/core';
import type { SDUNetConfig } from './sd-unet';
import type { ClipTextEncoderConfig } from './text-encoder';

export type SDFamilyName = 'sd21' | 'sdxl';
export const SD_FAMILY_NAMES: readonly SDFamilyName[] = ['sd21', 'sdxl'];

/** One text encoder of a family and the tokenizer it reads. */
export interface SDTextEncoderSpec {
  /** Component folder: text_encoder or text_encoder_2. */
  component: 'text_encoder' | 'text_encoder_2';
  /** Tokenizer folder inside the pipeline folder. */
  tokenizer: 'tokenizer' | 'tokenizer_2';
  /** The zoo's shared tokenizer it is copied from (pad with EOS: 'tokenizer'; pad with "!": 'tokenizer_2'). */
  sharedTokenizer: 'tokenizer' | 'tokenizer_2';
  config: ClipTextEncoderConfig;
  /** Seed of the (frozen) weights. */
  seed: number;
}

/** Everything that makes a tiny family look like its real counterpart. */
export interface SDFamily {
  name: SDFamilyName;
  pipelineClass: 'StableDiffusionPipeline' | 'StableDiffusionXLPipeline';
  textEncoders: readonly SDTextEncoderSpec[];
  unet: SDUNetConfig;
  predictionType: 'epsilon' | 'v_prediction';
  /** The zoo's shared patch autoencoder folder (models/shared/<vae>). */
  vae: 'patch-vae-sd21' | 'patch-vae-sdxl';
  /** The folder's scheduler (the SD noise schedule: 1000 steps, scaled_linear 0.00085 → 0.012). */
  scheduler: () => Scheduler;
  /** The uncond embeddings of an empty prompt are zeros (diffusers' force_zeros_for_empty_prompt). */
  forceZerosForEmptyPrompt: boolean;
  /** Guidance scale written to the folder's zoo.json, from a sweep with scripts/eval.ts (500 samples, 20 steps). */
  defaultGuidanceScale: number;
}

/** The zoo tokenizers' vocabulary: CLIP's byte-level tokens, learned merges, then BOS and EOS. */
export const ZOO_VOCAB = { size: 763, bos: 761, eos: 762 } as const;
/** Token sequence length of CLIP text encoders. */
export const TEXT_LENGTH = 77;

const SD_NOISE_SCHEDULE = {
  numTrainTimesteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'scaled_linear',
  stepsOffset: 1,
  timestepSpacing: 'leading',
} as const;

function textEncoder(
  hiddenSize: number,
  heads: number,
  hiddenAct: ClipTextEncoderConfig['hiddenAct'],
  extra: Partial<ClipTextEncoderConfig> = {},
): ClipTextEncoderConfig {
  return {
    vocabSize: ZOO_VOCAB.size,
    maxPositionEmbeddings: TEXT_LENGTH,
    hiddenSize,
    intermediateSize: 2 * hiddenSize,
    numHiddenLayers: 2,
    numAttentionHeads: heads,
    hiddenAct,
    layerNormEps: 1e-5,
    bosTokenId: ZOO_VOCAB.bos,
    eosTokenId: ZOO_VOCAB.eos,
    outputHiddenStates: false,
    ...extra,
  };
}

/**
 * The token UNet both families share: an 8×8 level of pointwise resnets and a 4×4 level with
 * cross-attention, a mid block with cross-attention, and a plain up path. Attention sits only
 * where there are 16 tokens, which is what a training of minutes on a CPU affords.
 */
const TOKEN_UNET: Omit<SDUNetConfig, 'crossAttentionDim' | 'timestepInput'> = {
  sampleSize: 8,
  inChannels: 4,
  outChannels: 4,
  blockOutChannels: [32, 64],
  downBlockTypes: ['DownBlock2D', 'CrossAttnDownBlock2D'],
  upBlockTypes: ['UpBlock2D', 'UpBlock2D'],
  layersPerBlock: 1,
  transformerLayersPerBlock: 1,
  attentionHeadDim: 32,
  ffMult: 2,
  timeEmbedDim: 128,
};

/** SD 2.1 (768-v): one OpenCLIP-style encoder (pad "!"), last_hidden_state, v-prediction, int64 timesteps. */
export const TINY_SD21: SDFamily = {
  name: 'sd21',
  pipelineClass: 'StableDiffusionPipeline',
  textEncoders: [
    {
      component: 'text_encoder',
      tokenizer: 'tokenizer',
      sharedTokenizer: 'tokenizer_2',
      config: textEncoder(64, 2, 'gelu'),
      seed: 21,
    },
  ],
  unet: { ...TOKEN_UNET, crossAttentionDim: 64, timestepInput: { dtype: 'int64', rank: 1 } },
  predictionType: 'v_prediction',
  vae: 'patch-vae-sd21',
  scheduler: () =>
    new DDIMScheduler({
      ...SD_NOISE_SCHEDULE,
      setAlphaToOne: false,
      clipSample: false,
      predictionType: 'v_prediction',
    }),
  forceZerosForEmptyPrompt: false,
  defaultGuidanceScale: 4,
};

/**
 * SDXL: a CLIP-L-style encoder (pad EOS) and an OpenCLIP-style encoder with projection (pad "!"),
 * penultimate hidden states concatenated (32 + 48 = 80 features), pooled `text_embeds` and
 * `time_ids` as added conditioning, epsilon prediction, a float32 scalar timestep.
 */
export const TINY_SDXL: SDFamily = {
  name: 'sdxl',
  pipelineClass: 'StableDiffusionXLPipeline',
  textEncoders: [
    {
      component: 'text_encoder',
      tokenizer: 'tokenizer',
      sharedTokenizer: 'tokenizer',
      config: textEncoder(32, 2, 'quick_gelu', { outputHiddenStates: true }),
      seed: 1,
    },
    {
      component: 'text_encoder_2',
      tokenizer: 'tokenizer_2',
      sharedTokenizer: 'tokenizer_2',
      config: textEncoder(48, 3, 'gelu', { outputHiddenStates: true, projectionDim: 48 }),
      seed: 2,
    },
  ],
  unet: {
    ...TOKEN_UNET,
    crossAttentionDim: 80,
    addition: { textEmbedDim: 48, additionTimeEmbedDim: 8 },
    timestepInput: { dtype: 'float32', rank: 0 },
  },
  predictionType: 'epsilon',
  vae: 'patch-vae-sdxl',
  scheduler: () => new EulerDiscreteScheduler({ ...SD_NOISE_SCHEDULE, predictionType: 'epsilon' }),
  forceZerosForEmptyPrompt: true,
  defaultGuidanceScale: 3,
};

export const SD_FAMILIES: Readonly<Record<SDFamilyName, SDFamily>> = { sd21: TINY_SD21, sdxl: TINY_SDXL };

export function sdFamily(name: string): SDFamily {
  const family = SD_FAMILIES[name as SDFamilyName];
  if (!family) {
    throw new InvalidArgumentError(`family: expected one of ${SD_FAMILY_NAMES.join(', ')}, got "${name}"`);
  }
  return family;
}
