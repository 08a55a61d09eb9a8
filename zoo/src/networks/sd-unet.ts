import { InvalidArgumentError } from '@noiserefine/core';
import {
  GraphBuilder,
  layerNorm,
  linear,
  type ModelProto,
  positionEmbedding2d,
  silu,
  timestepEmbedder,
  timestepFrequencies,
  type Value,
} from '@noiserefine/onnx';
import { downsample, resnetBlock, transformer2d, upsample } from './sd-unet-blocks';

export type DownBlockType = 'CrossAttnDownBlock2D' | 'DownBlock2D';
export type UpBlockType = 'CrossAttnUpBlock2D' | 'UpBlock2D';

/** SDXL's "text_time" additional conditioning: pooled text embeddings and micro-conditioning ids. */
export interface TextTimeConditioning {
  /** Width of `text_embeds` (the pooled projection of text_encoder_2). */
  textEmbedDim: number;
  /** Sinusoid width per `time_ids` entry (SDXL: 256). */
  additionTimeEmbedDim: number;
}

/** How the graph takes `timestep`: older exports int64 [B], newer ones a float32 scalar []. */
export type TimestepInput = { dtype: 'int64'; rank: 1 } | { dtype: 'float32'; rank: 0 | 1 };

/** Hyperparameters of the token UNet (UNet2DConditionModel's names, camelCased). */
export interface SDUNetConfig {
  /** Side of the square latent. */
  sampleSize: number;
  inChannels: number;
  outChannels: number;
  /** Width per resolution level; each level after the first halves the side. */
  blockOutChannels: readonly number[];
  downBlockTypes: readonly DownBlockType[];
  upBlockTypes: readonly UpBlockType[];
  layersPerBlock: number;
  transformerLayersPerBlock: number;
  /** Channels per attention head. */
  attentionHeadDim: number;
  crossAttentionDim: number;
  /** FeedForward width = ffMult · channels. */
  ffMult: number;
  /** Width of the time embedding (diffusers: 4 · blockOutChannels[0]). */
  timeEmbedDim: number;
  /** SDXL's added conditioning (`text_embeds`, `time_ids`), absent for SD 1.x/2.x. */
  addition?: TextTimeConditioning;
  timestepInput: TimestepInput;
}

/** Graph input and output names of the real exports. */
export const UNET_IO = {
  sample: 'sample',
  timestep: 'timestep',
  encoderHiddenStates: 'encoder_hidden_states',
  textEmbeds: 'text_embeds',
  timeIds: 'time_ids',
  output: 'out_sample',
} as const;

/** Number of SDXL micro-conditioning values: original size, crop top-left, target size. */
export const TIME_IDS_LENGTH = 6;

export interface BuildUNetOptions {
  seed?: number;
  /** Trained weights by parameter name; all must be used and cover every parameter. */
  weights?: ReadonlyMap<string, Float32Array>;
  /** Overrides the config's timestep input (training feeds one timestep per sample). */
  timestepInput?: TimestepInput;
  metadata?: Readonly<Record<string, string>>;
}

export function checkUNetConfig(config: SDUNetConfig): void {
  const { sampleSize, blockOutChannels, downBlockTypes, upBlockTypes, attentionHeadDim } = config;
  const problems: string[] = [];
  const levels = blockOutChannels.length;
  if (levels < 1) problems.push('at least one entry in blockOutChannels');
  if (downBlockTypes.length !== levels || upBlockTypes.length !== levels) {
    problems.push(`one down and one up block per level (${levels})`);
  }
  if (sampleSize % 2 ** (levels - 1) !== 0) {
    problems.push(`sampleSize ${sampleSize} divisible by ${2 ** (levels - 1)}`);
  }
  for (const c of blockOutChannels) {
    if (c % attentionHeadDim !== 0) problems.push(`attentionHeadDim ${attentionHeadDim} dividing ${c}`);
  }
  if ((blockOutChannels[0] ?? 0) % 4 !== 0)
    problems.push('blockOutChannels[0] divisible by 4 (position embedding)');
  if (!(config.layersPerBlock >= 1)) problems.push(`layersPerBlock ${config.layersPerBlock} ≥ 1`);
  if (problems.length > 0) throw new InvalidArgumentError(`UNet config: expected ${problems.join(', ')}`);
}

/** The time embedding [B or 1, T]: sinusoid of the timestep → `time_embedding` MLP, plus SDXL's `add_embedding`. */
function timeEmbedding(g: GraphBuilder, config: SDUNetConfig, input: TimestepInput): Value {
  const shape = input.rank === 0 ? [] : ['batch'];
  const timestep = g.input(UNET_IO.timestep, input.dtype, shape);
  let t = timestep;
  if (input.dtype === 'int64') {
    [t] = g.node('Cast', [timestep], [{ dtype: 'float32', shape }], { attributes: { to: { int: 1 } } }) as [
      Value,
    ];
  }
  // A scalar timestep is shared by the batch: embed it once and let the adds broadcast.
  if (input.rank === 0) t = g.reshape(t, [1]);
  const c0 = config.blockOutChannels[0] as number;
  const temb = timestepEmbedder(g, t, { name: 'time_embedding', dim: config.timeEmbedDim, frequencyDim: c0 });
  if (!config.addition) return temb;
  const { textEmbedDim, additionTimeEmbedDim: a } = config.addition;
  const textEmbeds = g.input(UNET_IO.textEmbeds, 'float32', ['batch', textEmbedDim]);
  const timeIds = g.input(UNET_IO.timeIds, 'float32', ['batch', TIME_IDS_LENGTH]);
  // Timesteps(a, flip_sin_to_cos=True) of each id: [B, 6] → [B, 6, a] → [B, 6·a].
  const idEmbeds = g.scope('add_time_proj', () => {
    const freqs = timestepFrequencies({ dim: a });
    const args = g.mul(
      g.unsqueeze(timeIds, [2]),
      g.constant(freqs, [1, 1, freqs.length], { name: 'frequencies' }),
    );
    return g.reshape(g.concat([g.cos(args), g.sin(args)], -1), [0, TIME_IDS_LENGTH * a]);
  });
  const added = g.scope('add_embedding', () => {
    const inFeatures = textEmbedDim + TIME_IDS_LENGTH * a;
    const h = linear(g, g.concat([textEmbeds, idEmbeds], -1), {
      name: 'linear_1',
      inFeatures,
      outFeatures: config.timeEmbedDim,
    });
    return linear(g, silu(g, h), {
      name: 'linear_2',
      inFeatures: config.timeEmbedDim,
      outFeatures: config.timeEmbedDim,
    });
  });
  return g.add(temb, added);
}

/**
 * A text-conditioned denoiser with UNet2DConditionModel's interface and module names, on
 * tokens: `sample` [B, C, S, S], `timestep`, `encoder_hidden_states` [B, seq, D] (+ SDXL's
 * `text_embeds` [B, P] and `time_ids` [B, 6]) → `out_sample` [B, C, S, S]. Down blocks, a mid
 * block and up blocks with skip connections; cross-attention blocks hold self-attention
 * `attn1` and cross-attention `attn2` (e.g. `mid_block.attentions.0.transformer_blocks.0.attn1`).
 * The output layer starts at zero.
 */
export function buildSDUNet(config: SDUNetConfig, options: BuildUNetOptions = {}): ModelProto {
  checkUNetConfig(config);
  const { sampleSize: size, inChannels, outChannels, blockOutChannels: widths, layersPerBlock } = config;
  const g = new GraphBuilder({
    name: 'unet',
    seed: options.seed ?? 0,
    ...(options.weights ? { weights: options.weights, exactWeights: true } : {}),
  });
  const sample = g.input(UNET_IO.sample, 'float32', ['batch', inChannels, size, size]);
  const temb = timeEmbedding(g, config, options.timestepInput ?? config.timestepInput);
  const context = g.input(UNET_IO.encoderHiddenStates, 'float32', [
    'batch',
    'sequence',
    config.crossAttentionDim,
  ]);
  const tembChannels = config.timeEmbedDim;
  const attentionFor = (name: string, channels: number) => (x: Value) =>
    transformer2d(g, x, {
      name,
      channels,
      heads: channels / config.attentionHeadDim,
      layers: config.transformerLayersPerBlock,
      context,
      contextDim: config.crossAttentionDim,
      ffMult: config.ffMult,
    });

  const c0 = widths[0] as number;
  const tokens = g.reshape(g.transpose(sample, [0, 2, 3, 1]), [0, size * size, inChannels]);
  let h = g.add(
    linear(g, tokens, { name: 'conv_in', inFeatures: inChannels, outFeatures: c0 }),
    positionEmbedding2d(g, { dim: c0, gridSize: size }),
  );

  // Skips as diffusers collects them: conv_in's output, each layer's output, each downsampler's.
  const skips: { value: Value; channels: number }[] = [{ value: h, channels: c0 }];
  let channels = c0;
  let side = size;
  widths.forEach((width, level) => {
    const name = `down_blocks.${level}`;
    for (let j = 0; j < layersPerBlock; j++) {
      h = resnetBlock(g, h, temb, {
        name: `${name}.resnets.${j}`,
        inChannels: channels,
        outChannels: width,
        tembChannels,
      });
      channels = width;
      if (config.downBlockTypes[level] === 'CrossAttnDownBlock2D')
        h = attentionFor(`${name}.attentions.${j}`, width)(h);
      skips.push({ value: h, channels });
    }
    if (level < widths.length - 1) {
      h = downsample(g, h, `${name}.downsamplers.0`, side, channels);
      side /= 2;
      skips.push({ value: h, channels });
    }
  });

  h = resnetBlock(g, h, temb, {
    name: 'mid_block.resnets.0',
    inChannels: channels,
    outChannels: channels,
    tembChannels,
  });
  h = attentionFor('mid_block.attentions.0', channels)(h);
  h = resnetBlock(g, h, temb, {
    name: 'mid_block.resnets.1',
    inChannels: channels,
    outChannels: channels,
    tembChannels,
  });

  const reversed = [...widths].reverse();
  reversed.forEach((width, i) => {
    const name = `up_blocks.${i}`;
    for (let j = 0; j <= layersPerBlock; j++) {
      const skip = skips.pop() as { value: Value; channels: number };
      h = resnetBlock(g, g.concat([h, skip.value], -1), temb, {
        name: `${name}.resnets.${j}`,
        inChannels: channels + skip.channels,
        outChannels: width,
        tembChannels,
      });
      channels = width;
      if (config.upBlockTypes[i] === 'CrossAttnUpBlock2D')
        h = attentionFor(`${name}.attentions.${j}`, width)(h);
    }
    if (i < reversed.length - 1) {
      h = upsample(g, h, `${name}.upsamplers.0`, side, channels);
      side *= 2;
    }
  });

  h = silu(g, layerNorm(g, h, { name: 'conv_norm_out', dim: channels }));
  h = linear(g, h, { name: 'conv_out', inFeatures: channels, outFeatures: outChannels, init: 'zeros' });
  const out = g.transpose(g.reshape(h, [0, size, size, outChannels]), [0, 3, 1, 2]);
  g.output(out, UNET_IO.output);
  return g.toModel({ metadata: { ...options.metadata } });
}

/** `unet/config.json` in diffusers' UNet2DConditionModel keys. */
export function unetConfigJson(config: SDUNetConfig): Record<string, unknown> {
  const heads = config.blockOutChannels.map((c) => c / config.attentionHeadDim);
  return {
    _class_name: 'UNet2DConditionModel',
    _diffusers_version: '0.30.0',
    sample_size: config.sampleSize,
    in_channels: config.inChannels,
    out_channels: config.outChannels,
    block_out_channels: [...config.blockOutChannels],
    down_block_types: [...config.downBlockTypes],
    up_block_types: [...config.upBlockTypes],
    mid_block_type: 'UNetMidBlock2DCrossAttn',
    layers_per_block: config.layersPerBlock,
    transformer_layers_per_block: config.transformerLayersPerBlock,
    attention_head_dim: config.attentionHeadDim,
    num_attention_heads: heads,
    cross_attention_dim: config.crossAttentionDim,
    use_linear_projection: true,
    flip_sin_to_cos: true,
    freq_shift: 0,
    time_embedding_dim: config.timeEmbedDim,
    ...(config.addition
      ? {
          addition_embed_type: 'text_time',
          addition_time_embed_dim: config.addition.additionTimeEmbedDim,
          projection_class_embeddings_input_dim:
            config.addition.textEmbedDim + TIME_IDS_LENGTH * config.addition.additionTimeEmbedDim,
        }
      : { addition_embed_type: null }),
    // What differs from diffusers' UNet: the layers are pointwise on tokens, the resampling convolutions 2×2.
    _zoo_architecture: {
      layout: 'tokens',
      norm: 'layer_norm',
      resnet_conv: 'pointwise',
      resampling: '2x2 stride-2 convolution and its transpose',
      position_embedding: 'fixed 2-D sin-cos after conv_in',
      ff_activation: 'gelu',
      ff_mult: config.ffMult,
    },
  };
}
