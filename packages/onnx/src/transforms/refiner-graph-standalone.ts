import { InvalidArgumentError, UnsupportedOptionError } from '@noiserefine/core';
import type { DataType } from '../builder/data-type';
import { GraphBuilder } from '../builder/graph-builder';
import { attention } from '../builder/layers/attention';
import { labelEmbedding, positionEmbedding2d, timestepEmbedder } from '../builder/layers/embeddings';
import { linear } from '../builder/layers/linear';
import { mlp } from '../builder/layers/mlp';
import { adaLNModulation, gatedResidual, modulate } from '../builder/layers/modulation';
import { layerNorm } from '../builder/layers/normalization';
import { patchify, unpatchify } from '../builder/layers/patches';
import type { Value } from '../builder/value';
import { type ModelProto, onnx, type TensorProto, type ValueInfoProto } from '../proto';

/** A small DiT-style network with the denoiser's inputs and output, trained from scratch. */
export interface StandaloneRefinerOptions {
  kind: 'standalone';
  /** The latent shape [C, H, W] the refiner works on (the denoiser's spatial dims may be symbolic). */
  latentShape: readonly number[];
  /** Token width (default 64). */
  hiddenSize?: number;
  /** Transformer blocks (default 2). */
  depth?: number;
  /** Attention heads (default 4). */
  numHeads?: number;
  /** MLP width = mlpRatio · hiddenSize (default 2). */
  mlpRatio?: number;
  /** Latent patch side; default: the smallest power of two giving at most 64 tokens. */
  patchSize?: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /** The latent input (default: `sample`, `x`, else the first float input of rank 4). */
  sampleInput?: string;
  /** The timestep input (default: `timestep`, `t` or `timesteps`). */
  timestepInput?: string;
}

const ONNX_TYPES: Record<number, DataType> = {
  [onnx.TensorProto.DataType.FLOAT]: 'float32',
  [onnx.TensorProto.DataType.INT64]: 'int64',
  [onnx.TensorProto.DataType.INT32]: 'int32',
  [onnx.TensorProto.DataType.BOOL]: 'bool',
};

interface InputSpec {
  name: string;
  dtype: DataType;
  dims: (number | string)[];
}

function inputSpecs(graph: NonNullable<ModelProto['graph']>): InputSpec[] {
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  return (graph.input as ValueInfoProto[])
    .filter((v) => !initializers.has(v.name ?? ''))
    .map((v) => {
      const type = v.type?.tensorType;
      const dtype = ONNX_TYPES[type?.elemType ?? 0];
      if (!dtype) {
        throw new UnsupportedOptionError(
          `element type of input "${v.name}"`,
          type?.elemType ?? null,
          'float32, int64, int32, bool (export a float32 denoiser for refiner training)',
          { context: 'standalone refiner' },
        );
      }
      const dims = (type?.shape?.dim ?? []).map((d, i) =>
        d.dimParam ? d.dimParam : Object.hasOwn(d, 'dimValue') ? Number(d.dimValue) : `${v.name}_dim${i}`,
      );
      return { name: v.name ?? '', dtype, dims };
    });
}

function pick(
  inputs: readonly InputSpec[],
  given: string | undefined,
  names: readonly string[],
  what: string,
) {
  const found = given
    ? inputs.find((i) => i.name === given)
    : (inputs.find((i) => names.includes(i.name)) ?? undefined);
  if (!found) {
    throw new InvalidArgumentError(
      `standalone refiner: expected a ${what} input${given ? ` named "${given}"` : ` (${names.join(', ')})`}, got inputs ${inputs.map((i) => `"${i.name}"`).join(', ')}`,
    );
  }
  return found;
}

/** Rows of the denoiser's label-embedding table: the Gather whose indices are the label input. */
function labelTableRows(graph: NonNullable<ModelProto['graph']>, label: string): number {
  const tables = new Map(((graph.initializer ?? []) as TensorProto[]).map((t) => [t.name ?? '', t]));
  for (const node of graph.node ?? []) {
    if (node.opType !== 'Gather' || node.input?.[1] !== label) continue;
    const rows = tables.get(node.input?.[0] ?? '')?.dims?.[0];
    if (rows !== undefined) return Number(rows);
  }
  throw new InvalidArgumentError(
    `standalone refiner: expected the denoiser to embed label input "${label}" with a Gather on an initializer table (to size the refiner's table), found none`,
  );
}

function defaultPatchSize(height: number, width: number): number {
  let p = 1;
  while ((height / p) * (width / p) > 64 && height % (2 * p) === 0 && width % (2 * p) === 0) p *= 2;
  return p;
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      `standalone refiner: expected ${what} to be a positive integer, got ${value}`,
    );
  }
  return value;
}

/**
 * Builds the standalone refiner: the latent in 2-D patches with sin-cos positions, a
 * conditioning vector from the timestep, class labels (embedding table) and pooled text
 * embeddings (rank-2 float inputs, layer-normalised), adaLN-Zero blocks with self-attention,
 * cross-attention on rank-3 float inputs (the text states) and an MLP, and a zero-initialised
 * output layer, so its output is exactly zero at initialisation. Every input of the denoiser
 * is an input here, under the same name; inputs it cannot use (none so far) stay unread.
 */
export function buildStandaloneRefiner(
  denoiser: ModelProto,
  options: StandaloneRefinerOptions,
  metadata: Readonly<Record<string, string>>,
): ModelProto {
  const graph = denoiser.graph;
  if (!graph)
    throw new InvalidArgumentError('standalone refiner: expected a denoiser with a graph, got none');
  const [channels, height, width] = options.latentShape as [number, number, number];
  if (options.latentShape.length !== 3) {
    throw new InvalidArgumentError(
      `standalone refiner: expected latentShape [C, H, W], got [${options.latentShape.join(', ')}]`,
    );
  }
  const dim = positiveInteger(options.hiddenSize ?? 64, 'hiddenSize');
  const depth = positiveInteger(options.depth ?? 2, 'depth');
  const heads = positiveInteger(options.numHeads ?? 4, 'numHeads');
  const hidden = positiveInteger((options.mlpRatio ?? 2) * dim, 'mlpRatio · hiddenSize');
  const patchSize = positiveInteger(options.patchSize ?? defaultPatchSize(height, width), 'patchSize');
  if (dim % 4 !== 0 || dim % heads !== 0) {
    throw new InvalidArgumentError(
      `standalone refiner: expected hiddenSize divisible by 4 and by numHeads ${heads}, got ${dim}`,
    );
  }

  const specs = inputSpecs(graph);
  const sampleSpec = pick(specs, options.sampleInput, ['sample', 'x'], 'latent');
  const timestepSpec = pick(specs, options.timestepInput, ['timestep', 't', 'timesteps'], 'timestep');
  const outputName = graph.output?.[0]?.name ?? 'out_sample';

  const g = new GraphBuilder({ name: 'noise_refiner', seed: options.seed ?? 0 });
  const values = new Map<string, Value>();
  for (const spec of specs) {
    const dims = spec === sampleSpec ? [sampleSpec.dims[0] ?? 'batch', channels, height, width] : spec.dims;
    values.set(spec.name, g.input(spec.name, spec.dtype, dims));
  }
  const x = values.get(sampleSpec.name) as Value;
  const geometry = { patchSize, channels, height, width };
  const tokens = linear(g, patchify(g, x, geometry), {
    name: 'x_embedder.proj',
    inFeatures: patchSize * patchSize * channels,
    outFeatures: dim,
    init: 'xavier',
  });
  const gridSize = height / patchSize;
  let h =
    height === width
      ? g.add(tokens, positionEmbedding2d(g, { dim, gridSize }))
      : g.add(
          tokens,
          g.parameter('pos_embed', [1, (height / patchSize) * (width / patchSize), dim], { normal: 0.02 }),
        );

  const t = values.get(timestepSpec.name) as Value;
  const tFloat =
    t.dtype === 'float32'
      ? t
      : (g.node('Cast', [t], [{ dtype: 'float32', shape: t.shape }], {
          attributes: { to: { int: onnx.TensorProto.DataType.FLOAT } },
        })[0] as Value);
  let c = timestepEmbedder(g, g.reshape(tFloat, [-1]), { name: 't_embedder', dim });
  let context: { value: Value; dim: number } | undefined;
  for (const spec of specs) {
    if (spec === sampleSpec || spec === timestepSpec) continue;
    const value = values.get(spec.name) as Value;
    const last = spec.dims[spec.dims.length - 1];
    if ((spec.dtype === 'int64' || spec.dtype === 'int32') && spec.dims.length === 1) {
      const rows = labelTableRows(graph, spec.name);
      c = g.add(
        c,
        labelEmbedding(g, value, {
          name: `${spec.name}_embedder`,
          numClasses: rows,
          dim,
          withNullClass: false,
        }),
      );
    } else if (spec.dtype === 'float32' && spec.dims.length === 2 && typeof last === 'number') {
      const normed = layerNorm(g, value, { name: `${spec.name}_norm`, dim: last, elementwiseAffine: false });
      c = g.add(c, linear(g, normed, { name: `${spec.name}_embedder`, inFeatures: last, outFeatures: dim }));
    } else if (spec.dtype === 'float32' && spec.dims.length === 3 && typeof last === 'number' && !context) {
      context = { value, dim: last };
    }
  }

  for (let i = 0; i < depth; i++) {
    const name = `blocks.${i}`;
    const [shift1, scale1, gate1, shift2, scale2, gate2] = adaLNModulation(g, c, {
      name,
      dim,
      chunks: 6,
    }) as [Value, Value, Value, Value, Value, Value];
    h = g.scope(name, () => {
      const norm1 = layerNorm(g, h, { name: 'norm1', dim, eps: 1e-6, elementwiseAffine: false });
      const attn = attention(g, modulate(g, norm1, shift1, scale1), {
        name: 'attn',
        dim,
        heads,
        init: 'xavier',
      });
      let out = gatedResidual(g, h, gate1, attn);
      if (context) {
        const normC = layerNorm(g, out, { name: 'norm_cross', dim, eps: 1e-6 });
        out = g.add(
          out,
          attention(g, normC, {
            name: 'cross_attn',
            dim,
            heads,
            context: context.value,
            contextDim: context.dim,
          }),
        );
      }
      const norm2 = layerNorm(g, out, { name: 'norm2', dim, eps: 1e-6, elementwiseAffine: false });
      const ff = mlp(g, modulate(g, norm2, shift2, scale2), {
        name: 'mlp',
        inFeatures: dim,
        hiddenFeatures: hidden,
        activation: 'gelu-tanh',
        init: 'xavier',
      });
      return gatedResidual(g, out, gate2, ff);
    });
  }

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
  g.output(unpatchify(g, patches, geometry), outputName);
  return g.toModel({ metadata, producerName: 'noiserefine' });
}
