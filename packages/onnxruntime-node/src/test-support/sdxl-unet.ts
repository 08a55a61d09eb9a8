/**
 * A tiny SDXL-style denoiser written with the graph builder, with the I/O of a real SDXL
 * `unet/model.onnx` export: `sample` [B, 4, 8, 8], `timestep` float32 scalar [],
 * `encoder_hidden_states` [B, S, contextDim], `text_embeds` [B, pooledDim], `time_ids`
 * [B, 6] → `out_sample`. Like SDXL's UNet it adds a timestep embedding and an "added
 * condition" embedding (pooled text + sinusoids of the six time ids) to every token, and
 * cross-attends to the text states. For tests only.
 */
import {
  attention,
  encodeModel,
  GraphBuilder,
  layerNorm,
  linear,
  mlp,
  patchify,
  silu,
  sinusoidalTimestepEmbedding,
  timestepFrequencies,
  unpatchify,
  type Value,
} from '@noiserefine/onnx';

export interface TinySDXLUNetOptions {
  contextDim: number;
  pooledDim: number;
  width?: number;
  seed?: number;
}

const LATENT = { patchSize: 1, channels: 4, height: 8, width: 8 } as const;
/** SDXL's addition_time_embed_dim, scaled down. */
const TIME_ID_FEATURES = 8;

function embedding(g: GraphBuilder, x: Value, name: string, inFeatures: number, width: number): Value {
  return g.scope(name, () => {
    const h = silu(g, linear(g, x, { name: 'linear_1', inFeatures, outFeatures: width }));
    return linear(g, h, { name: 'linear_2', inFeatures: width, outFeatures: width });
  });
}

export function tinySDXLUNet(options: TinySDXLUNetOptions): Uint8Array {
  const { contextDim, pooledDim, width = 16 } = options;
  const g = new GraphBuilder({ name: 'tiny-sdxl-unet', seed: options.seed ?? 0 });
  const sample = g.input('sample', 'float32', ['batch', 4, 8, 8]);
  const timestep = g.input('timestep', 'float32', []);
  const context = g.input('encoder_hidden_states', 'float32', ['batch', 'sequence', contextDim]);
  const textEmbeds = g.input('text_embeds', 'float32', ['batch', pooledDim]);
  const timeIds = g.input('time_ids', 'float32', ['batch', 6]);

  const t = sinusoidalTimestepEmbedding(g, g.reshape(timestep, [1]), { dim: 32, flipSinToCos: true });
  const timeEmbedding = embedding(g, t, 'time_embedding', 32, width); // [1, width]
  // Sinusoids of each time id, [B, 6, 1] × [1, 1, F/2] → [B, 6, F] → [B, 6·F] (SDXL's add_time_proj).
  const freqs = timestepFrequencies({ dim: TIME_ID_FEATURES });
  const args = g.mul(g.reshape(timeIds, [0, 6, 1]), g.constant(freqs, [1, 1, freqs.length]));
  const idFeatures = g.reshape(g.concat([g.cos(args), g.sin(args)], -1), [0, 6 * TIME_ID_FEATURES]);
  const added = g.concat([textEmbeds, idFeatures], -1);
  const addEmbedding = embedding(g, added, 'add_embedding', pooledDim + 6 * TIME_ID_FEATURES, width);
  const emb = g.unsqueeze(g.add(timeEmbedding, addEmbedding), [1]); // [B, 1, width]

  let h = g.add(
    linear(g, patchify(g, sample, LATENT), { name: 'conv_in', inFeatures: 4, outFeatures: width }),
    emb,
  );
  h = g.scope('transformer', () => {
    const norm = (x: Value, name: string) => layerNorm(g, x, { name, dim: width });
    let x = g.add(h, attention(g, norm(h, 'norm1'), { name: 'attn1', dim: width, heads: 2, qkvBias: false }));
    x = g.add(
      x,
      attention(g, norm(x, 'norm2'), {
        name: 'attn2',
        dim: width,
        heads: 2,
        qkvBias: false,
        context,
        contextDim,
      }),
    );
    return g.add(x, mlp(g, norm(x, 'norm3'), { name: 'ff', inFeatures: width, hiddenFeatures: 2 * width }));
  });
  const out = linear(g, layerNorm(g, h, { name: 'norm_out', dim: width }), {
    name: 'conv_out',
    inFeatures: width,
    outFeatures: 4,
  });
  g.output(unpatchify(g, out, LATENT), 'out_sample');
  return encodeModel(g.toModel({ producerName: 'noiserefine-tests' }));
}
