import { InvalidArgumentError, InvalidConfigError } from '@noiserefine/core';
import {
  adaLNModulation,
  attention,
  GraphBuilder,
  gatedResidual,
  labelEmbedding,
  layerNorm,
  linear,
  type ModelProto,
  mlp,
  modulate,
  patchify,
  positionEmbedding2d,
  timestepEmbedder,
  unpatchify,
  type Value,
} from '@noiserefine/onnx';

/** Hyperparameters of a SiT/DiT transformer (the names of DiT's constructor, camelCased). */
export interface SiTNetworkConfig {
  /** Side of the square latent. */
  inputSize: number;
  inChannels: number;
  patchSize: number;
  hiddenSize: number;
  depth: number;
  numHeads: number;
  /** MLP hidden width = mlpRatio · hiddenSize. */
  mlpRatio: number;
  numClasses: number;
  /** Width of the sinusoidal timestep features (DiT: 256). */
  frequencyEmbeddingSize: number;
}

/** The zoo's SiT on the patch autoencoder's [4, 8, 8] latents: 16 tokens (2×2 latent patches), 4 blocks of width 64. */
export const TINY_SIT_CONFIG: SiTNetworkConfig = {
  inputSize: 8,
  inChannels: 4,
  patchSize: 2,
  hiddenSize: 64,
  depth: 4,
  numHeads: 4,
  mlpRatio: 2,
  numClasses: 10,
  frequencyEmbeddingSize: 64,
};

/** Graph input and output names, as a torch.onnx.export of SiT's forward(x, t, y) gives them. */
export const SIT_IO = { x: 'x', t: 't', y: 'y', output: 'output' } as const;

export interface BuildSiTOptions {
  /** Seed of the initial weights (ignored for parameters given in `weights`). */
  seed?: number;
  /** Trained weights by parameter name; all of them must be used and cover every parameter. */
  weights?: ReadonlyMap<string, Float32Array>;
  /** model.metadata_props to add. */
  metadata?: Readonly<Record<string, string>>;
}

export function checkSiTConfig(config: SiTNetworkConfig): void {
  const { inputSize, patchSize, hiddenSize, numHeads, depth, mlpRatio, numClasses } = config;
  const problems: string[] = [];
  if (!(patchSize >= 1 && inputSize % patchSize === 0)) {
    problems.push(`patchSize ${patchSize} dividing inputSize ${inputSize}`);
  }
  if (!(numHeads >= 1 && hiddenSize % numHeads === 0)) {
    problems.push(`numHeads ${numHeads} dividing hiddenSize ${hiddenSize}`);
  }
  // The 2-D sin-cos position embedding splits the width into four equal parts.
  if (hiddenSize % 4 !== 0) problems.push(`hiddenSize ${hiddenSize} divisible by 4`);
  if (!(depth >= 1)) problems.push(`depth ${depth} ≥ 1`);
  if (!Number.isInteger(mlpRatio * hiddenSize) || mlpRatio <= 0) {
    problems.push(`mlpRatio ${mlpRatio} giving an integer MLP width`);
  }
  if (!(numClasses >= 1)) problems.push(`numClasses ${numClasses} ≥ 1`);
  if (problems.length > 0) {
    throw new InvalidArgumentError(`SiT config: expected ${problems.join(', ')}`);
  }
}

type Six = [Value, Value, Value, Value, Value, Value];

/** One DiT block with adaLN-Zero: every residual branch is gated by a zero-initialised vector. */
function ditBlock(g: GraphBuilder, h: Value, c: Value, index: number, config: SiTNetworkConfig): Value {
  const { hiddenSize: dim, numHeads: heads, mlpRatio } = config;
  const name = `blocks.${index}`;
  const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = adaLNModulation(g, c, {
    name,
    dim,
    chunks: 6,
  }) as Six;
  return g.scope(name, () => {
    const norm1 = layerNorm(g, h, { name: 'norm1', dim, eps: 1e-6, elementwiseAffine: false });
    const attnIn = modulate(g, norm1, shiftMsa, scaleMsa);
    const afterAttn = gatedResidual(
      g,
      h,
      gateMsa,
      attention(g, attnIn, { name: 'attn', dim, heads, init: 'xavier' }),
    );
    const norm2 = layerNorm(g, afterAttn, { name: 'norm2', dim, eps: 1e-6, elementwiseAffine: false });
    const mlpIn = modulate(g, norm2, shiftMlp, scaleMlp);
    const mlpOut = mlp(g, mlpIn, {
      name: 'mlp',
      inFeatures: dim,
      hiddenFeatures: mlpRatio * dim,
      activation: 'gelu-tanh',
      init: 'xavier',
    });
    return gatedResidual(g, afterAttn, gateMlp, mlpOut);
  });
}

/**
 * A class-conditional SiT/DiT transformer as an ONNX graph (opset 17): inputs `x`
 * [B, C, S, S] float32, `t` [B] float32 (SiT time in [0, 1]), `y` [B] int64 (the null
 * class is `numClasses`); output `output` [B, C, S, S], the velocity. Initialised as DiT
 * does: xavier linears, N(0, 0.02²) label table, zero adaLN modulation and output layer,
 * so the untrained network predicts exactly zero.
 */
export function buildSiT(config: SiTNetworkConfig, options: BuildSiTOptions = {}): ModelProto {
  checkSiTConfig(config);
  const { inputSize: size, inChannels: channels, patchSize, hiddenSize: dim } = config;
  const g = new GraphBuilder({
    name: 'sit',
    seed: options.seed ?? 0,
    ...(options.weights ? { weights: options.weights, exactWeights: true } : {}),
  });
  const geometry = { patchSize, channels, height: size, width: size };
  const x = g.input(SIT_IO.x, 'float32', ['batch', channels, size, size]);
  const t = g.input(SIT_IO.t, 'float32', ['batch']);
  const y = g.input(SIT_IO.y, 'int64', ['batch']);

  const tokens = linear(g, patchify(g, x, geometry), {
    name: 'x_embedder.proj',
    inFeatures: patchSize * patchSize * channels,
    outFeatures: dim,
    init: 'xavier',
  });
  let h = g.add(tokens, positionEmbedding2d(g, { dim, gridSize: size / patchSize }));
  const c = g.add(
    timestepEmbedder(g, t, { name: 't_embedder', dim, frequencyDim: config.frequencyEmbeddingSize }),
    labelEmbedding(g, y, { name: 'y_embedder', numClasses: config.numClasses, dim }),
  );
  for (let i = 0; i < config.depth; i++) h = ditBlock(g, h, c, i, config);

  const [shift, scale] = adaLNModulation(g, c, { name: 'final_layer', dim, chunks: 2 }) as [Value, Value];
  const patches = g.scope('final_layer', () => {
    const normed = layerNorm(g, h, { name: 'norm_final', dim, eps: 1e-6, elementwiseAffine: false });
    return linear(g, modulate(g, normed, shift, scale), {
      name: 'linear',
      inFeatures: dim,
      outFeatures: patchSize * patchSize * channels,
      init: 'zeros',
    });
  });
  g.output(unpatchify(g, patches, geometry), SIT_IO.output);
  return g.toModel({
    metadata: {
      family: 'sit',
      architecture: `dit-d${config.depth}-w${dim}-h${config.numHeads}-p${patchSize}`,
      ...options.metadata,
    },
  });
}

/** Number of trainable values of a built network. */
export function countParameters(model: ModelProto): number {
  let n = 0;
  for (const t of model.graph?.initializer ?? []) {
    n += (t.dims ?? []).reduce((p: number, d) => p * Number(d), 1);
  }
  return n;
}

/** `transformer/config.json` as the SDK's SiTPipeline reads it (DiT's snake_case names). */
export function sitTransformerConfig(
  config: SiTNetworkConfig,
  guidanceScale: number,
): Record<string, unknown> {
  return {
    _class_name: 'SiT',
    input_size: config.inputSize,
    in_channels: config.inChannels,
    patch_size: config.patchSize,
    hidden_size: config.hiddenSize,
    depth: config.depth,
    num_heads: config.numHeads,
    mlp_ratio: config.mlpRatio,
    num_classes: config.numClasses,
    frequency_embedding_size: config.frequencyEmbeddingSize,
    learn_sigma: false,
    class_dropout_prob: 0.1,
    // Guidance on every latent channel (the reference's 3-of-4 quirk is not used here).
    cfg_channels: null,
    guidance_scale: guidanceScale,
  };
}

/** Reads a network config back from `transformer/config.json`. */
export function sitConfigFromJson(json: Record<string, unknown>, source: string): SiTNetworkConfig {
  const number = (key: string): number => {
    const v = json[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InvalidConfigError(key, 'a finite number', v, { source });
    }
    return v;
  };
  const config: SiTNetworkConfig = {
    inputSize: number('input_size'),
    inChannels: number('in_channels'),
    patchSize: number('patch_size'),
    hiddenSize: number('hidden_size'),
    depth: number('depth'),
    numHeads: number('num_heads'),
    mlpRatio: number('mlp_ratio'),
    numClasses: number('num_classes'),
    frequencyEmbeddingSize: number('frequency_embedding_size'),
  };
  checkSiTConfig(config);
  return config;
}
