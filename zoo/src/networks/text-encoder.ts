import { InvalidArgumentError } from '@noiserefine/core';
import {
  GraphBuilder,
  gelu,
  layerNorm,
  linear,
  type ModelProto,
  type ParameterInit,
  type Value,
} from '@noiserefine/onnx';

/** Hyperparameters of a CLIP text transformer (transformers' CLIPTextConfig, camelCased). */
export interface ClipTextEncoderConfig {
  vocabSize: number;
  /** Sequence length the graph takes (CLIP: 77). */
  maxPositionEmbeddings: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** 'quick_gelu' for OpenAI CLIP (SD 1.x, SDXL encoder 1), 'gelu' for OpenCLIP (SD 2.x, SDXL encoder 2). */
  hiddenAct: 'quick_gelu' | 'gelu';
  layerNormEps: number;
  bosTokenId: number;
  /** The pooled output is read at the first position holding the largest id, which is EOS in a CLIP vocabulary. */
  eosTokenId: number;
  /**
   * CLIPTextModelWithProjection (SDXL's text_encoder_2): a bias-free `text_projection` to this
   * width, output as `text_embeds` instead of `pooler_output`.
   */
  projectionDim?: number;
  /** Also output every layer's hidden states as `hidden_states.0 … hidden_states.N` (SDXL exports). */
  outputHiddenStates: boolean;
}

/** Output names of the real exports. */
export const TEXT_ENCODER_IO = {
  inputIds: 'input_ids',
  lastHiddenState: 'last_hidden_state',
  pooled: 'pooler_output',
  projected: 'text_embeds',
  hiddenStates: (layer: number) => `hidden_states.${layer}`,
} as const;

/**
 * Initial scales of the frozen encoders. A random CLIP at CLIP's own init (token table
 * N(0, 0.02²)) is dominated by its residual branches, which at random weights mostly average
 * over the sequence; with a unit-scale token table and small output projections the hidden
 * state at each position stays close to its token's embedding plus a little context, which
 * is what a denoiser's cross-attention needs to read the caption.
 */
const TOKEN_EMBEDDING_STD = 1;
const POSITION_EMBEDDING_STD = 0.1;
const RESIDUAL_OUTPUT_STD = 0.02;

export interface BuildTextEncoderOptions {
  seed?: number;
  /** Trained or saved weights by parameter name; all must be used and cover every parameter. */
  weights?: ReadonlyMap<string, Float32Array>;
  metadata?: Readonly<Record<string, string>>;
}

export function checkTextEncoderConfig(config: ClipTextEncoderConfig): void {
  const problems: string[] = [];
  const { hiddenSize, numAttentionHeads, numHiddenLayers, vocabSize, eosTokenId, bosTokenId } = config;
  if (!(numAttentionHeads >= 1 && hiddenSize % numAttentionHeads === 0)) {
    problems.push(`numAttentionHeads ${numAttentionHeads} dividing hiddenSize ${hiddenSize}`);
  }
  if (!(numHiddenLayers >= 1)) problems.push(`numHiddenLayers ${numHiddenLayers} ≥ 1`);
  if (config.outputHiddenStates && numHiddenLayers < 2) {
    problems.push('numHiddenLayers ≥ 2 when hidden states are output (SDXL reads the penultimate layer)');
  }
  if (!(eosTokenId === vocabSize - 1 && bosTokenId < eosTokenId)) {
    problems.push(`eosTokenId ${eosTokenId} = vocabSize − 1 (the largest id, so argmax finds it)`);
  }
  if (problems.length > 0)
    throw new InvalidArgumentError(`text encoder config: expected ${problems.join(', ')}`);
}

function activation(g: GraphBuilder, x: Value, kind: ClipTextEncoderConfig['hiddenAct']): Value {
  // quick_gelu: x·σ(1.702·x), OpenAI CLIP's approximation.
  return kind === 'gelu' ? gelu(g, x) : g.mul(x, g.sigmoid(g.mul(x, 1.702)));
}

/** x·W + b with W [in, out] drawn from `init` and a zero bias (a CLIP projection). */
function dense(
  g: GraphBuilder,
  x: Value,
  name: string,
  inFeatures: number,
  outFeatures: number,
  init: ParameterInit,
): Value {
  return g.scope(name, () => {
    const weight = g.parameter('weight', [inFeatures, outFeatures], init);
    return g.add(g.matMul(x, weight), g.parameter('bias', [outFeatures], 'zeros'));
  });
}

/** CLIP's causal self-attention (`self_attn.q_proj` … `out_proj`): each token sees itself and earlier tokens. */
function causalSelfAttention(g: GraphBuilder, x: Value, config: ClipTextEncoderConfig, mask: Value): Value {
  const { hiddenSize: dim, numAttentionHeads: heads } = config;
  const headDim = dim / heads;
  return g.scope('self_attn', () => {
    const project = (name: string) => dense(g, x, name, dim, dim, { uniform: 1 / Math.sqrt(dim) });
    const split = (t: Value, perm: number[]) => g.transpose(g.reshape(t, [0, 0, heads, headDim]), perm);
    const q = split(project('q_proj'), [0, 2, 1, 3]);
    const kT = split(project('k_proj'), [0, 2, 3, 1]);
    const v = split(project('v_proj'), [0, 2, 1, 3]);
    const scores = g.add(g.mul(g.matMul(q, kT, { name: 'attention_scores' }), 1 / Math.sqrt(headDim)), mask);
    const probs = g.softmax(scores, -1, { name: 'attention_probs' });
    const merged = g.reshape(g.transpose(g.matMul(probs, v, { name: 'attention_output' }), [0, 2, 1, 3]), [
      0,
      0,
      dim,
    ]);
    return dense(g, merged, 'out_proj', dim, dim, { normal: RESIDUAL_OUTPUT_STD });
  });
}

function encoderLayer(
  g: GraphBuilder,
  h: Value,
  index: number,
  config: ClipTextEncoderConfig,
  mask: Value,
): Value {
  const { hiddenSize: dim, intermediateSize, layerNormEps: eps } = config;
  return g.scope(`encoder.layers.${index}`, () => {
    const attended = g.add(
      h,
      causalSelfAttention(g, layerNorm(g, h, { name: 'layer_norm1', dim, eps }), config, mask),
    );
    const mlpIn = layerNorm(g, attended, { name: 'layer_norm2', dim, eps });
    const mlpOut = g.scope('mlp', () => {
      const hidden = activation(
        g,
        linear(g, mlpIn, { name: 'fc1', inFeatures: dim, outFeatures: intermediateSize }),
        config.hiddenAct,
      );
      return dense(g, hidden, 'fc2', intermediateSize, dim, { normal: RESIDUAL_OUTPUT_STD });
    });
    return g.add(attended, mlpOut);
  });
}

/** [1, 1, S, S]: 0 on and below the diagonal, a large negative number above it. */
function causalMask(g: GraphBuilder, length: number): Value {
  const values = new Float32Array(length * length);
  for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) values[i * length + j] = -1e9;
  return g.constant(values, [1, 1, length, length], { name: 'causal_attention_mask' });
}

/**
 * The hidden state at the first occurrence of the largest id in each row, [B, D]: CLIP's
 * pooling (argmax of input_ids finds EOS, the largest id of a CLIP vocabulary), written as a
 * one-hot row times the hidden states so it is a matrix product.
 */
function poolAtEos(g: GraphBuilder, ids: Value, hidden: Value, length: number, dim: number): Value {
  const [position] = g.node('ArgMax', [ids], [{ dtype: 'int64', shape: ['batch'] }], {
    attributes: { axis: { int: 1 }, keepdims: { int: 0 }, select_last_index: { int: 0 } },
  }) as [Value];
  const positions = g.constant(
    BigInt64Array.from({ length }, (_, i) => BigInt(i)),
    [1, length],
    { name: 'position_ids' },
  );
  const [isEos] = g.node(
    'Equal',
    [g.unsqueeze(position, [1]), positions],
    [{ dtype: 'bool', shape: ['batch', length] }],
  ) as [Value];
  const [oneHot] = g.node('Cast', [isEos], [{ dtype: 'float32', shape: ['batch', length] }], {
    attributes: { to: { int: 1 } },
  }) as [Value];
  return g.reshape(g.matMul(g.unsqueeze(oneHot, [1]), hidden), [-1, dim]);
}

/**
 * A CLIP text transformer as an ONNX graph with the real exports' interface: `input_ids`
 * int64 [B, S] → `last_hidden_state` [B, S, D] and `pooler_output` [B, D] (or, with a
 * projection, `text_embeds` [B, P]), plus `hidden_states.0 … hidden_states.N` when asked.
 * Parameter names are transformers' (`text_model.encoder.layers.0.self_attn.q_proj.weight`,
 * stored [in, out]).
 */
export function buildClipTextEncoder(
  config: ClipTextEncoderConfig,
  options: BuildTextEncoderOptions = {},
): ModelProto {
  checkTextEncoderConfig(config);
  const { hiddenSize: dim, maxPositionEmbeddings: length, numHiddenLayers: layers } = config;
  const g = new GraphBuilder({
    name: config.projectionDim === undefined ? 'clip_text_model' : 'clip_text_model_with_projection',
    seed: options.seed ?? 0,
    ...(options.weights ? { weights: options.weights, exactWeights: true } : {}),
  });
  const ids = g.input(TEXT_ENCODER_IO.inputIds, 'int64', ['batch', length]);
  const mask = causalMask(g, length);
  const states: Value[] = [];
  const last = g.scope('text_model', () => {
    let h = g.scope('embeddings', () => {
      const tokens = g.scope('token_embedding', () =>
        g.parameter('weight', [config.vocabSize, dim], { normal: TOKEN_EMBEDDING_STD }),
      );
      const positions = g.scope('position_embedding', () =>
        g.parameter('weight', [length, dim], { normal: POSITION_EMBEDDING_STD }),
      );
      return g.add(g.gather(tokens, ids, 0), positions);
    });
    states.push(h);
    for (let i = 0; i < layers; i++) {
      h = encoderLayer(g, h, i, config, mask);
      states.push(h);
    }
    return layerNorm(g, h, { name: 'final_layer_norm', dim, eps: config.layerNormEps });
  });
  g.output(last, TEXT_ENCODER_IO.lastHiddenState);
  const pooled = poolAtEos(g, ids, last, length, dim);
  if (config.projectionDim === undefined) {
    g.output(pooled, TEXT_ENCODER_IO.pooled);
  } else {
    const projection = g.scope('text_projection', () =>
      g.parameter('weight', [dim, config.projectionDim as number], { uniform: 1 / Math.sqrt(dim) }),
    );
    g.output(g.matMul(pooled, projection), TEXT_ENCODER_IO.projected);
  }
  if (config.outputHiddenStates) {
    // hidden_states.N is the last layer's output before final_layer_norm, as transformers returns it.
    states.forEach((s, i) => {
      g.output(s, TEXT_ENCODER_IO.hiddenStates(i));
    });
  }
  return g.toModel({ metadata: { ...options.metadata } });
}

/** `config.json` of the folder, in transformers' CLIPTextConfig keys. */
export function clipTextConfigJson(config: ClipTextEncoderConfig): Record<string, unknown> {
  const withProjection = config.projectionDim !== undefined;
  return {
    _name_or_path: withProjection ? 'zoo/clip-text-with-projection' : 'zoo/clip-text',
    architectures: [withProjection ? 'CLIPTextModelWithProjection' : 'CLIPTextModel'],
    model_type: 'clip_text_model',
    vocab_size: config.vocabSize,
    max_position_embeddings: config.maxPositionEmbeddings,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numHiddenLayers,
    num_attention_heads: config.numAttentionHeads,
    hidden_act: config.hiddenAct,
    layer_norm_eps: config.layerNormEps,
    bos_token_id: config.bosTokenId,
    eos_token_id: config.eosTokenId,
    pad_token_id: 1,
    ...(withProjection ? { projection_dim: config.projectionDim } : {}),
    torch_dtype: 'float32',
  };
}
