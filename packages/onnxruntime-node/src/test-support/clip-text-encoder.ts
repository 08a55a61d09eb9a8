/**
 * A tiny CLIP-style text encoder written with the graph builder, with the I/O of a real
 * `text_encoder/model.onnx` export: `input_ids` [B, 77] → `last_hidden_state` [B, 77, D]
 * and `pooler_output` [B, D] (or `text_embeds` [B, P] with a projection, as SDXL's second
 * encoder), optionally `hidden_states.0 … hidden_states.N` (SDXL exports). For tests only.
 */
import {
  attention,
  encodeModel,
  GraphBuilder,
  layerNorm,
  linear,
  mlp,
  onnx,
  type Value,
} from '@noiserefine/onnx';

export const TEXT_LENGTH = 77;

export interface TinyTextEncoderOptions {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  heads: number;
  /** Element type of `input_ids`: exporters write int64, some int32. */
  idsType: 'int64' | 'int32';
  /** Project the pooled state to this width and output it as `text_embeds` (CLIPTextModelWithProjection). */
  projectionDim?: number;
  /** Output every layer's hidden states as `hidden_states.0` (embeddings) … `hidden_states.N`. */
  outputHiddenStates?: boolean;
  seed?: number;
}

/**
 * CLIP's pooling: the final state at the end-of-text token, found as the position of the
 * largest id (EOS is the last vocabulary entry), first occurrence, as torch's argmax.
 */
function poolAtEos(g: GraphBuilder, hidden: Value, ids: Value, width: number): Value {
  const idsFloat = g.node('Cast', [ids], [{ dtype: 'float32', shape: ids.shape }], {
    attributes: { to: { int: onnx.TensorProto.DataType.FLOAT } },
  })[0] as Value;
  const [position] = g.node('ArgMax', [idsFloat], [{ dtype: 'int64', shape: ['batch', 1] }], {
    attributes: { axis: { int: 1 }, keepdims: { int: 1 } },
  }) as [Value];
  const index = g.node(
    'Expand',
    [g.unsqueeze(position, [2]), g.int64Constant([1, 1, width])],
    [{ dtype: 'int64', shape: ['batch', 1, width] }],
  )[0] as Value;
  const [picked] = g.node(
    'GatherElements',
    [hidden, index],
    [{ dtype: 'float32', shape: ['batch', 1, width] }],
    {
      attributes: { axis: { int: 1 } },
    },
  ) as [Value];
  return g.reshape(picked, [0, width]);
}

/** The encoder's ONNX bytes; the same options and seed give the same weights. */
export function tinyTextEncoder(options: TinyTextEncoderOptions): Uint8Array {
  const { vocabSize, hiddenSize: d, numLayers, heads } = options;
  const g = new GraphBuilder({ name: 'tiny-clip-text', seed: options.seed ?? 0 });
  const ids = g.input('input_ids', options.idsType, ['batch', TEXT_LENGTH]);
  const tokens = g.scope('embeddings', () => {
    const table = g.scope('token_embedding', () => g.parameter('weight', [vocabSize, d], { normal: 1 }));
    const positions = g.scope('position_embedding', () =>
      g.parameter('weight', [TEXT_LENGTH, d], { normal: 0.5 }),
    );
    return g.add(g.gather(table, ids, 0), positions);
  });
  const states: Value[] = [tokens];
  let h = tokens;
  for (let i = 0; i < numLayers; i++) {
    h = g.scope(`encoder.layers.${i}`, () => {
      const attended = attention(g, layerNorm(g, h, { name: 'layer_norm1', dim: d }), {
        name: 'self_attn',
        dim: d,
        heads,
      });
      const mid = g.add(h, attended);
      const fed = mlp(g, layerNorm(g, mid, { name: 'layer_norm2', dim: d }), {
        name: 'mlp',
        inFeatures: d,
        hiddenFeatures: 2 * d,
      });
      return g.add(mid, fed);
    });
    states.push(h);
  }
  const last = layerNorm(g, h, { name: 'final_layer_norm', dim: d });
  const pooled = poolAtEos(g, last, ids, d);
  g.output(last, 'last_hidden_state');
  if (options.projectionDim === undefined) {
    g.output(pooled, 'pooler_output');
  } else {
    const projected = linear(g, pooled, {
      name: 'text_projection',
      inFeatures: d,
      outFeatures: options.projectionDim,
      bias: false,
    });
    g.output(projected, 'text_embeds');
  }
  if (options.outputHiddenStates) {
    // A graph output must be a node's output: copy each state through Identity.
    states.forEach((state, i) => {
      const [copy] = g.node('Identity', [state], [{ dtype: 'float32', shape: state.shape }]) as [Value];
      g.output(copy, `hidden_states.${i}`);
    });
  }
  return encodeModel(g.toModel({ producerName: 'noiserefine-tests' }));
}
