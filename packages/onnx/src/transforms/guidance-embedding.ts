import { InvalidArgumentError, ModelSignatureError } from '@noiserefine/core';
import type onnxProto from 'onnx-proto';
import { encodeTensor } from '../builder/data-type';
import { timestepFrequencies } from '../builder/layers/embeddings';
import { getMetadata, setMetadata } from '../builder/metadata';
import { decodeModel, type ModelProto, type NodeProto, onnx } from '../proto';
import { GraphIndex, type NodeLike } from './graph-index';
import { loraLayers } from './lora';
import { REFINER_TRAINABLE_METADATA_KEY, refinerTrainable } from './refiner-graph';
import { findTimestepEmbedding } from './timestep-embedding';

const WHAT = 'addGuidanceEmbedding';

/** metadata_props key describing the added embedding (a JSON GuidanceEmbeddingRecord). */
export const GUIDANCE_EMBEDDING_METADATA_KEY = 'guidance_embedding';

export interface GuidanceEmbeddingOptions {
  /** The timestep-embedding tensor by exact value name; overrides `patterns`. */
  timestepEmbedding?: string;
  /** Layer patterns locating the layer that outputs the timestep embedding (default DEFAULT_TIMESTEP_EMBEDDING_PATTERNS). */
  patterns?: readonly string[];
  /** The new float32 input [batch] (default `guidance_scale`, what NoiseRefiner feeds). */
  inputName?: string;
  /** Module path of the new layers (default `guidance_embedding`): `<name>.linear.weight` / `.bias`. */
  name?: string;
  /** Sinusoid width (even); default the width of the model's own timestep sinusoid, else 256. */
  frequencyDim?: number;
  /** Multiplies w before the sinusoid (diffusers' `scale`, default 1). */
  scale?: number;
  /** [cos, sin] rather than [sin, cos] (default true, as DiT's and diffusers' UNet timestep embedders). */
  flipSinToCos?: boolean;
  /** diffusers' downscale_freq_shift (default 0). */
  downscaleFreqShift?: number;
  maxPeriod?: number;
  /** Width D of the timestep embedding, when the producing layer's weights do not tell it. */
  embeddingDim?: number;
}

/** What `addGuidanceEmbedding` records in the model's metadata. */
export interface GuidanceEmbeddingRecord {
  input: string;
  /** The timestep-embedding tensor the guidance embedding is added to, and the layer that makes it. */
  timestepEmbedding: string;
  layer: string;
  frequencyDim: number;
  embeddingDim: number;
  scale: number;
  flipSinToCos: boolean;
  downscaleFreqShift: number;
  maxPeriod: number;
  weight: string;
  bias: string;
}

export interface GuidanceEmbedding {
  model: ModelProto;
  record: GuidanceEmbeddingRecord;
  /** The projection's weight and bias (zeros): what a trainer adds to its variables. */
  trainable: string[];
}

function positiveEven(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 2 || value % 2 !== 0) {
    throw new InvalidArgumentError(`${WHAT}: expected ${what} to be an even integer ≥ 2, got ${value}`);
  }
  return value;
}

function finite(value: number, what: string): number {
  if (!Number.isFinite(value))
    throw new InvalidArgumentError(`${WHAT}: expected a finite ${what}, got ${value}`);
  return value;
}

function constantNode(name: string, output: string, values: Float32Array | BigInt64Array, dims: number[]) {
  return onnx.NodeProto.create({
    name,
    opType: 'Constant',
    input: [],
    output: [output],
    attribute: [
      { name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: encodeTensor('', values, dims) },
    ],
  });
}

function node(opType: string, name: string, input: string[], output: string, axis?: number): NodeProto {
  return onnx.NodeProto.create({
    name,
    opType,
    input,
    output: [output],
    attribute:
      axis === undefined ? [] : [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis }],
  });
}

/** The batch dim of the new input: the symbolic first dim of the model's first rank ≥ 1 input, else "batch". */
function batchDim(inputs: readonly onnxProto.onnx.IValueInfoProto[]): { dimParam: string } {
  for (const input of inputs) {
    const first = input.type?.tensorType?.shape?.dim?.[0];
    if (first?.dimParam) return { dimParam: first.dimParam };
  }
  return { dimParam: 'batch' };
}

/**
 * Conditions a network on the guidance scale w as in the paper's App. A.4 (after Meng et al.
 * 2023): a new float32 input `guidance_scale` [batch] is encoded with diffusers'
 * get_timestep_embedding sinusoid, projected by a linear layer to the timestep embedding's
 * width, and added to the timestep embedding, whose readers now see emb + proj(sincos(w)).
 * No new branch: every block conditioned on the timestep is conditioned on w too. The
 * projection starts at zero, so the model computes exactly what it did for any w until it
 * is trained; its weight and bias are appended to the model's trainable list (the refiner
 * graph's `refiner_trainable`). The input model is not modified.
 */
export function addGuidanceEmbedding(
  model: ModelProto | Uint8Array,
  options: GuidanceEmbeddingOptions = {},
): GuidanceEmbedding {
  const source = model instanceof Uint8Array ? decodeModel(model) : model;
  const graph = source.graph;
  if (!graph) throw new InvalidArgumentError(`${WHAT}: expected a model with a graph, got none`);
  const inputName = options.inputName ?? 'guidance_scale';
  const name = options.name ?? 'guidance_embedding';
  const taken = new GraphIndex(graph);
  const used = (v: string) =>
    taken.producer(v) !== undefined ||
    taken.initializers.has(v) ||
    (graph.input ?? []).some((i) => i.name === v);
  if (used(inputName)) {
    throw new InvalidArgumentError(
      `${WHAT}: expected a model without an input or value "${inputName}", got one (is it already guidance-conditioned?)`,
    );
  }
  const weight = `${name}.linear.weight`;
  const bias = `${name}.linear.bias`;
  for (const v of [weight, bias]) {
    if (used(v))
      throw new InvalidArgumentError(`${WHAT}: the model already has a value "${v}"; pass another name`);
  }

  const site = findTimestepEmbedding(graph, {
    ...(options.timestepEmbedding === undefined ? {} : { tensor: options.timestepEmbedding }),
    ...(options.patterns === undefined ? {} : { patterns: options.patterns }),
    lora: loraLayers(source),
  });
  const embeddingDim = options.embeddingDim ?? site.embeddingDim;
  if (embeddingDim === undefined || !Number.isInteger(embeddingDim) || embeddingDim < 1) {
    throw new ModelSignatureError(
      `${WHAT}: expected the width of timestep embedding "${site.tensor}" from its layer's weights or the embeddingDim option, got ${embeddingDim ?? 'neither'}`,
    );
  }
  if (taken.isGraphOutput(site.tensor)) {
    throw new ModelSignatureError(
      `${WHAT}: timestep embedding "${site.tensor}" is a graph output; expected an intermediate tensor`,
    );
  }
  const consumers = taken.consumers(site.tensor);
  const indirect = consumers.filter((c) => !(c.input ?? []).includes(site.tensor));
  if (indirect.length > 0) {
    throw new ModelSignatureError(
      `${WHAT}: timestep embedding "${site.tensor}" is read inside the subgraph of ${indirect.map((c) => `"${c.name}"`).join(', ')}; expected only direct readers`,
    );
  }

  const frequencyDim = positiveEven(options.frequencyDim ?? site.frequencyDim ?? 256, 'frequencyDim');
  const record: GuidanceEmbeddingRecord = {
    input: inputName,
    timestepEmbedding: site.tensor,
    layer: site.layer,
    frequencyDim,
    embeddingDim,
    scale: finite(options.scale ?? 1, 'scale'),
    flipSinToCos: options.flipSinToCos ?? true,
    downscaleFreqShift: finite(options.downscaleFreqShift ?? 0, 'downscaleFreqShift'),
    maxPeriod: finite(options.maxPeriod ?? 10_000, 'maxPeriod'),
    weight,
    bias,
  };
  const freqs = timestepFrequencies({
    dim: frequencyDim,
    maxPeriod: record.maxPeriod,
    downscaleFreqShift: record.downscaleFreqShift,
    scale: record.scale,
  });

  // sincos(w) [B, F] → ·W [F, D] + b → + emb. Value names are prefixed with the module path.
  const v = (label: string) => `${name}.${label}`;
  const added: NodeProto[] = [
    constantNode(v('frequencies'), v('frequencies_output_0'), freqs, [1, freqs.length]),
    constantNode(v('axes'), v('axes_output_0'), BigInt64Array.of(1n), [1]),
    node('Unsqueeze', v('Unsqueeze'), [inputName, v('axes_output_0')], v('Unsqueeze_output_0')),
    node('Mul', v('Mul'), [v('Unsqueeze_output_0'), v('frequencies_output_0')], v('Mul_output_0')),
    node('Sin', v('Sin'), [v('Mul_output_0')], v('Sin_output_0')),
    node('Cos', v('Cos'), [v('Mul_output_0')], v('Cos_output_0')),
    node(
      'Concat',
      v('Concat'),
      record.flipSinToCos ? [v('Cos_output_0'), v('Sin_output_0')] : [v('Sin_output_0'), v('Cos_output_0')],
      v('Concat_output_0'),
      -1,
    ),
    node('MatMul', v('linear.MatMul'), [v('Concat_output_0'), weight], v('linear.MatMul_output_0')),
    node('Add', v('linear.Add'), [v('linear.MatMul_output_0'), bias], v('linear.Add_output_0')),
    node('Add', v('Add'), [site.tensor, v('linear.Add_output_0')], v('output')),
  ];
  for (const n of added) {
    for (const out of n.output ?? []) {
      if (used(out))
        throw new InvalidArgumentError(`${WHAT}: the model already has a value "${out}"; pass another name`);
    }
  }

  const readers = new Set<NodeLike>(consumers);
  const producer = taken.producer(site.tensor);
  const nodes: NodeLike[] = [];
  for (const n of graph.node ?? []) {
    nodes.push(
      readers.has(n)
        ? onnx.NodeProto.create({
            ...(n as NodeProto),
            input: (n.input ?? []).map((i) => (i === site.tensor ? v('output') : i)),
          })
        : n,
    );
    // Right after the embedding's producer: the new nodes read only it, the new input and constants.
    if (n === producer) nodes.push(...added);
  }
  const result = onnx.ModelProto.create({
    ...source,
    graph: {
      ...graph,
      node: nodes,
      input: [
        ...(graph.input ?? []),
        onnx.ValueInfoProto.create({
          name: inputName,
          type: {
            tensorType: {
              elemType: onnx.TensorProto.DataType.FLOAT,
              shape: { dim: [batchDim(graph.input ?? [])] },
            },
          },
        }),
      ],
      initializer: [
        ...(graph.initializer ?? []),
        encodeTensor(weight, new Float32Array(frequencyDim * embeddingDim), [frequencyDim, embeddingDim]),
        encodeTensor(bias, new Float32Array(embeddingDim), [embeddingDim]),
      ],
    },
  });
  const trainable = [weight, bias];
  setMetadata(result, {
    [GUIDANCE_EMBEDDING_METADATA_KEY]: JSON.stringify(record),
    [REFINER_TRAINABLE_METADATA_KEY]: JSON.stringify([...refinerTrainable(source), ...trainable]),
  });
  return { model: result, record, trainable };
}

/** The guidance embedding a model records (undefined when it has none). */
export function guidanceEmbeddingRecord(
  model: Pick<ModelProto, 'metadataProps'>,
): GuidanceEmbeddingRecord | undefined {
  const raw = getMetadata(model)[GUIDANCE_EMBEDDING_METADATA_KEY];
  return raw ? (JSON.parse(raw) as GuidanceEmbeddingRecord) : undefined;
}
