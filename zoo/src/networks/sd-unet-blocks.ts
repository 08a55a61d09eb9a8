import { attention, gelu, type GraphBuilder, layerNorm, linear, silu, type Value } from '@noiserefine/onnx';

/**
 * The blocks of the zoo's token UNet, named as diffusers names UNet2DConditionModel's modules.
 * Feature maps are kept as tokens [B, H·W, C] (row-major positions), so every layer is a matrix
 * product that trains on any tfjs engine: a "conv" here is pointwise (1×1) and the resampling
 * convolutions are their exact token forms (a 2×2 stride-2 convolution is a linear map of each
 * merged 2×2 patch; its transpose is a linear map to four sub-positions).
 */

export interface ResnetOptions {
  name: string;
  inChannels: number;
  outChannels: number;
  /** Width of the time embedding fed to `time_emb_proj`. */
  tembChannels: number;
}

/**
 * ResnetBlock2D: norm1 → SiLU → conv1 → + time_emb_proj(SiLU(temb)) → norm2 → SiLU → conv2,
 * plus the input (through `conv_shortcut` when the width changes). conv2 starts at zero, so a
 * new block is the identity (ADM's zero-initialised output layers).
 */
export function resnetBlock(g: GraphBuilder, x: Value, temb: Value, options: ResnetOptions): Value {
  const { inChannels, outChannels, tembChannels } = options;
  return g.scope(options.name, () => {
    let h = silu(g, layerNorm(g, x, { name: 'norm1', dim: inChannels }));
    h = linear(g, h, { name: 'conv1', inFeatures: inChannels, outFeatures: outChannels });
    const t = linear(g, silu(g, temb), {
      name: 'time_emb_proj',
      inFeatures: tembChannels,
      outFeatures: outChannels,
    });
    h = g.add(h, g.unsqueeze(t, [1]));
    h = silu(g, layerNorm(g, h, { name: 'norm2', dim: outChannels }));
    h = linear(g, h, { name: 'conv2', inFeatures: outChannels, outFeatures: outChannels, init: 'zeros' });
    const shortcut =
      inChannels === outChannels
        ? x
        : linear(g, x, { name: 'conv_shortcut', inFeatures: inChannels, outFeatures: outChannels });
    return g.add(shortcut, h);
  });
}

export interface TransformerOptions {
  name: string;
  channels: number;
  heads: number;
  layers: number;
  /** Prompt embeddings [B, seq, contextDim] that `attn2` attends to. */
  context: Value;
  contextDim: number;
  /** FeedForward width = ffMult · channels (diffusers: 4). */
  ffMult: number;
}

/** BasicTransformerBlock: self-attention `attn1`, cross-attention `attn2`, feed-forward `ff`, each pre-normed and residual. */
function transformerBlock(g: GraphBuilder, x: Value, index: number, options: TransformerOptions): Value {
  const { channels: dim, heads, context, contextDim, ffMult } = options;
  return g.scope(`transformer_blocks.${index}`, () => {
    const norm = (h: Value, name: string) => layerNorm(g, h, { name, dim });
    let h = g.add(x, attention(g, norm(x, 'norm1'), { name: 'attn1', dim, heads, qkvBias: false }));
    h = g.add(
      h,
      attention(g, norm(h, 'norm2'), { name: 'attn2', dim, heads, qkvBias: false, context, contextDim }),
    );
    const ff = g.scope('ff.net', () => {
      const inner = gelu(
        g,
        linear(g, norm(h, 'norm3'), { name: '0.proj', inFeatures: dim, outFeatures: ffMult * dim }),
      );
      return linear(g, inner, { name: '2', inFeatures: ffMult * dim, outFeatures: dim });
    });
    return g.add(h, ff);
  });
}

/**
 * Transformer2DModel with linear projections (SD 2.x / SDXL): norm → proj_in → blocks → proj_out,
 * plus the input. proj_out starts at zero, so a new attention block is the identity.
 */
export function transformer2d(g: GraphBuilder, x: Value, options: TransformerOptions): Value {
  const { channels: dim } = options;
  return g.scope(options.name, () => {
    let h = linear(g, layerNorm(g, x, { name: 'norm', dim }), {
      name: 'proj_in',
      inFeatures: dim,
      outFeatures: dim,
    });
    for (let i = 0; i < options.layers; i++) h = transformerBlock(g, h, i, options);
    return g.add(x, linear(g, h, { name: 'proj_out', inFeatures: dim, outFeatures: dim, init: 'zeros' }));
  });
}

/** Downsample2D as a 2×2 stride-2 convolution: [B, H·W, C] → [B, H/2·W/2, C]. */
export function downsample(g: GraphBuilder, x: Value, name: string, side: number, channels: number): Value {
  const half = side / 2;
  const blocks = g.reshape(x, [0, half, 2, half, 2, channels]); // B, h, dy, w, dx, C
  const merged = g.reshape(g.transpose(blocks, [0, 1, 3, 2, 4, 5]), [0, half * half, 4 * channels]);
  return linear(g, merged, { name: `${name}.conv`, inFeatures: 4 * channels, outFeatures: channels });
}

/** Upsample2D as a 2×2 stride-2 transposed convolution: [B, h·w, C] → [B, 2h·2w, C]. */
export function upsample(g: GraphBuilder, x: Value, name: string, side: number, channels: number): Value {
  const spread = linear(g, x, { name: `${name}.conv`, inFeatures: channels, outFeatures: 4 * channels });
  const blocks = g.reshape(spread, [0, side, side, 2, 2, channels]); // B, h, w, dy, dx, C
  return g.reshape(g.transpose(blocks, [0, 1, 3, 2, 4, 5]), [0, 4 * side * side, channels]);
}
