import { Generator, InvalidArgumentError } from '@noiserefine/core';
import type onnxProto from 'onnx-proto';
import { getMetadata, setMetadata } from '../builder/metadata';
import { decodeModel, type ModelProto, type NodeProto, onnx, type TensorProto } from '../proto';
import { eliminateDeadCode } from './dead-code';
import type { GraphLike, NodeLike } from './graph-index';
import { compileLayerPatterns, matchesLayerPattern } from './layer-patterns';
import {
  describeLayers,
  findWeightedLayers,
  LORA_LAYER_KINDS,
  type LoraLayerKind,
  type LoraWeightLayout,
  type WeightedLayer,
} from './lora-layers';
import { float32Tensor, readFloat32 } from './lora-tensors';

const WHAT = 'injectLora';

/** metadata_props key holding the injected layers (a JSON array of LoraLayerRecord), read by mergeLora. */
export const LORA_METADATA_KEY = 'lora_layers';

export interface LoraOptions {
  /** r: the inner dimension of B·A. */
  rank: number;
  /** The update is (alpha / rank)·B·A (PEFT's lora_alpha). Default: rank, a scale of 1. */
  alpha?: number;
  /**
   * Which layers, as layer patterns (regular expressions searched in each layer's module path,
   * e.g. 'attn', 'mid_block', 'blocks.(0|1)', '.*'); a match may not end inside a number. Every
   * pattern must select at least one layer of the included kinds.
   */
  targets: readonly string[];
  /** Kinds of layers to consider (default all): attention projections, other linear layers, convolutions. */
  include?: readonly LoraLayerKind[];
  /** Weight initializers never to adapt (e.g. a layer trained in full instead). */
  excludeWeights?: readonly string[];
  /** Seed of A's initial values (default 0). */
  seed?: number;
}

/** One adapted layer, as recorded in the model's metadata. */
export interface LoraLayerRecord {
  path: string;
  kind: LoraLayerKind;
  layout: LoraWeightLayout;
  /** The frozen weight initializer W. */
  weight: string;
  dims: number[];
  /** Initializer names of A [rank, fanIn] (seeded small random) and B [fanOut, rank] (zeros). */
  a: string;
  b: string;
  rank: number;
  alpha: number;
  /** The value the layer now reads: W + (alpha/rank)·B·A in W's layout. */
  adapted: string;
  /** The nodes that compute it. */
  nodes: string[];
}

function checkRank(options: LoraOptions): { rank: number; alpha: number } {
  const { rank } = options;
  if (!Number.isInteger(rank) || rank < 1) {
    throw new InvalidArgumentError(`${WHAT}: expected rank to be a positive integer, got ${rank}`);
  }
  const alpha = options.alpha ?? rank;
  if (!Number.isFinite(alpha) || alpha <= 0) {
    throw new InvalidArgumentError(`${WHAT}: expected alpha to be a positive number, got ${alpha}`);
  }
  return { rank, alpha };
}

function checkKinds(include: readonly LoraLayerKind[]): void {
  const unknown = include.filter((k) => !LORA_LAYER_KINDS.includes(k));
  if (unknown.length > 0 || include.length === 0) {
    throw new InvalidArgumentError(
      `${WHAT}: expected include to list some of ${LORA_LAYER_KINDS.map((k) => `"${k}"`).join(', ')}, got ${JSON.stringify(include)}`,
    );
  }
}

/** The layers the patterns select; throws naming the candidates when a pattern selects none. */
export function selectLoraLayers(
  layers: readonly WeightedLayer[],
  targets: readonly string[],
  include: readonly LoraLayerKind[] = LORA_LAYER_KINDS,
  what = WHAT,
  adapted: readonly string[] = [],
): WeightedLayer[] {
  const candidates = layers.filter((l) => include.includes(l.kind));
  const compiled = compileLayerPatterns(targets, `${what} targets`);
  const selected = new Set<WeightedLayer>();
  compiled.forEach((re, i) => {
    const matches = candidates.filter((l) => matchesLayerPattern(re, l.path));
    if (matches.length === 0) {
      const again = adapted.filter((path) => matchesLayerPattern(re, path));
      if (again.length > 0) {
        throw new InvalidArgumentError(
          `${what}: target ${JSON.stringify(targets[i])} selects ${again.map((p) => JSON.stringify(p)).join(', ')}, which already has LoRA; expected a model without it there (merge first with mergeLora)`,
        );
      }
      const otherKinds = layers.filter((l) => !include.includes(l.kind) && matchesLayerPattern(re, l.path));
      throw new InvalidArgumentError(
        `${what}: target ${JSON.stringify(targets[i])} matches no ${include.join('/')} layer` +
          (otherKinds.length > 0
            ? ` (it matches ${describeLayers(otherKinds)}, whose kind is not included)`
            : '') +
          `; expected a pattern matching one of the candidate layers: ${describeLayers(candidates)}`,
      );
    }
    for (const m of matches) selected.add(m);
  });
  return layers.filter((l) => selected.has(l));
}

function attribute(name: string, value: { i?: number; f?: number }): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  return value.f !== undefined ? { name, type: T.FLOAT, f: value.f } : { name, type: T.INT, i: value.i };
}

/** The nodes computing W + scale·B·A in W's layout, ending in `adapted`. */
function adapterNodes(
  layer: WeightedLayer,
  a: string,
  b: string,
  scale: number,
  adapted: string,
): NodeProto[] {
  const prefix = `${layer.path}.lora`;
  if (layer.layout === 'in-out') {
    // (B·A)ᵀ = Aᵀ·Bᵀ is [fanIn, fanOut], the MatMul operand's layout; Gemm adds W as C.
    return [
      onnx.NodeProto.create({
        name: `${prefix}.Gemm`,
        opType: 'Gemm',
        input: [a, b, layer.weight],
        output: [adapted],
        attribute: [
          attribute('alpha', { f: scale }),
          attribute('transA', { i: 1 }),
          attribute('transB', { i: 1 }),
        ],
      }),
    ];
  }
  if (layer.layout === 'out-in') {
    return [
      onnx.NodeProto.create({
        name: `${prefix}.Gemm`,
        opType: 'Gemm',
        input: [b, a, layer.weight],
        output: [adapted],
        attribute: [attribute('alpha', { f: scale })],
      }),
    ];
  }
  // Convolutions: B·A is [out, in/groups·kh·kw], reshaped to the kernel's layout.
  const shape = `${prefix}.kernel_shape`;
  const delta = `${prefix}.delta`;
  const kernel = `${prefix}.delta_kernel`;
  const T = onnx.AttributeProto.AttributeType;
  return [
    onnx.NodeProto.create({
      name: `${prefix}.Gemm`,
      opType: 'Gemm',
      input: [b, a],
      output: [delta],
      attribute: [attribute('alpha', { f: scale })],
    }),
    onnx.NodeProto.create({
      name: `${prefix}.Constant`,
      opType: 'Constant',
      input: [],
      output: [shape],
      attribute: [
        {
          name: 'value',
          type: T.TENSOR,
          t: onnx.TensorProto.create({
            name: '',
            dims: [layer.dims.length],
            dataType: onnx.TensorProto.DataType.INT64,
            int64Data: [...layer.dims],
          }),
        },
      ],
    }),
    onnx.NodeProto.create({
      name: `${prefix}.Reshape`,
      opType: 'Reshape',
      input: [delta, shape],
      output: [kernel],
    }),
    onnx.NodeProto.create({
      name: `${prefix}.Add`,
      opType: 'Add',
      input: [layer.weight, kernel],
      output: [adapted],
    }),
  ];
}

function withInput(node: NodeLike, index: number, value: string): NodeLike {
  const input = [...(node.input ?? [])];
  input[index] = value;
  return onnx.NodeProto.create({ ...(node as NodeProto), input });
}

/** The LoRA layers recorded in a model's metadata (empty when it has none). */
export function loraLayers(model: Pick<ModelProto, 'metadataProps'>): LoraLayerRecord[] {
  const raw = getMetadata(model)[LORA_METADATA_KEY];
  return raw ? (JSON.parse(raw) as LoraLayerRecord[]) : [];
}

/**
 * Adds LoRA to the selected layers: each weight W is read as W + (alpha/rank)·B·A, with new
 * float32 initializers `<path>.lora_A` [rank, fanIn] (seeded, U(±1/√fanIn) as PEFT's
 * kaiming-uniform) and `<path>.lora_B` [fanOut, rank] (zeros), so the model computes exactly
 * what it did until B is trained. MatMul and Gemm weights get B·A in their layout; Conv
 * kernels a reshaped B·A. The layers are recorded in metadata (`lora_layers`) for mergeLora.
 * The input model is not modified.
 */
export function injectLora(model: ModelProto | Uint8Array, options: LoraOptions): ModelProto {
  const source = model instanceof Uint8Array ? decodeModel(model) : model;
  if (!source.graph) throw new InvalidArgumentError(`${WHAT}: expected a model with a graph, got none`);
  const { rank, alpha } = checkRank(options);
  const include = options.include ?? LORA_LAYER_KINDS;
  checkKinds(include);
  const excluded = new Set(options.excludeWeights ?? []);
  const layers = findWeightedLayers(source.graph).filter((l) => !excluded.has(l.weight));
  const earlier = loraLayers(source);
  const selected = selectLoraLayers(
    layers,
    options.targets,
    include,
    WHAT,
    earlier.map((r) => r.path),
  );

  const existing = new Set((source.graph.initializer ?? []).map((t) => t.name ?? ''));
  const generator = new Generator(options.seed ?? 0);
  const scale = alpha / rank;
  const records: LoraLayerRecord[] = [];
  const adapterList: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const rewired = new Map<NodeLike, NodeLike>();
  for (const layer of selected) {
    const a = `${layer.path}.lora_A`;
    const b = `${layer.path}.lora_B`;
    if (existing.has(a) || existing.has(b)) {
      throw new InvalidArgumentError(
        `${WHAT}: initializer "${a}" or "${b}" already exists; expected a model without LoRA on ${JSON.stringify(layer.path)}`,
      );
    }
    const bound = 1 / Math.sqrt(layer.fanIn);
    const aValues = generator.randValues(rank * layer.fanIn).map((u) => (2 * u - 1) * bound);
    initializers.push(
      float32Tensor(a, aValues, [rank, layer.fanIn]),
      float32Tensor(b, new Float32Array(layer.fanOut * rank), [layer.fanOut, rank]),
    );
    const adapted = `${layer.path}.lora_weight`;
    const nodes = adapterNodes(layer, a, b, scale, adapted);
    adapterList.push(...nodes);
    rewired.set(layer.node, withInput(layer.node, layer.weightInput, adapted));
    records.push({
      path: layer.path,
      kind: layer.kind,
      layout: layer.layout,
      weight: layer.weight,
      dims: [...layer.dims],
      a,
      b,
      rank,
      alpha,
      adapted,
      nodes: nodes.map((n) => n.name ?? ''),
    });
  }

  const graph: GraphLike = {
    ...source.graph,
    node: [...adapterList, ...(source.graph.node ?? []).map((n) => rewired.get(n) ?? n)],
    initializer: [...(source.graph.initializer ?? []), ...initializers],
  };
  const result = onnx.ModelProto.create({ ...source, graph });
  setMetadata(result, { [LORA_METADATA_KEY]: JSON.stringify([...earlier, ...records]) });
  return result;
}

/** W + scale·B·A in W's layout, computed in float64 and rounded once. */
function mergedWeight(
  record: LoraLayerRecord,
  w: Float32Array,
  a: Float32Array,
  b: Float32Array,
): Float32Array {
  const { rank } = record;
  const scale = record.alpha / record.rank;
  const fanIn = a.length / rank;
  const fanOut = b.length / rank;
  const out = new Float32Array(w.length);
  for (let o = 0; o < fanOut; o++) {
    for (let i = 0; i < fanIn; i++) {
      let sum = 0;
      for (let k = 0; k < rank; k++) sum += (b[o * rank + k] as number) * (a[k * fanIn + i] as number);
      // 'in-out' weights are [fanIn, fanOut]; the others are [fanOut, fanIn, …].
      const at = record.layout === 'in-out' ? i * fanOut + o : o * fanIn + i;
      out[at] = (w[at] as number) + scale * sum;
    }
  }
  return out;
}

/**
 * Folds every LoRA of `injectLora` into its weight, W ← W + (alpha/rank)·B·A, and removes
 * the adapter nodes, A and B: the result runs at the base model's cost. A weight another
 * layer also reads keeps its value, and the adapted layer gets its own merged copy.
 */
export function mergeLora(model: ModelProto | Uint8Array): ModelProto {
  const source = model instanceof Uint8Array ? decodeModel(model) : model;
  const records = loraLayers(source);
  if (!source.graph || records.length === 0) {
    throw new InvalidArgumentError(
      `mergeLora: expected a model with LoRA layers (metadata "${LORA_METADATA_KEY}" written by injectLora), got none`,
    );
  }
  const byName = new Map(((source.graph.initializer ?? []) as TensorProto[]).map((t) => [t.name ?? '', t]));
  const tensor = (name: string, record: LoraLayerRecord): TensorProto => {
    const t = byName.get(name);
    if (!t) {
      throw new InvalidArgumentError(
        `mergeLora: layer ${JSON.stringify(record.path)} expects initializer "${name}", which the model lacks`,
      );
    }
    return t;
  };
  const adapterNodes = new Set(records.flatMap((r) => r.nodes));
  const nodes = (source.graph.node ?? []).filter((n) => !adapterNodes.has(n.name ?? ''));
  const replaced = new Map<string, TensorProto>();
  const renames = new Map<string, string>();
  for (const record of records) {
    const merged = mergedWeight(
      record,
      readFloat32(tensor(record.weight, record)),
      readFloat32(tensor(record.a, record)),
      readFloat32(tensor(record.b, record)),
    );
    const sharedWithOthers = nodes.some((n) => (n.input ?? []).includes(record.weight));
    if (sharedWithOthers || replaced.has(record.weight)) {
      replaced.set(record.adapted, float32Tensor(record.adapted, merged, record.dims));
    } else {
      replaced.set(record.weight, float32Tensor(record.weight, merged, record.dims));
      renames.set(record.adapted, record.weight);
    }
  }
  const rewired = nodes.map((n) =>
    (n.input ?? []).some((i) => renames.has(i))
      ? onnx.NodeProto.create({
          ...(n as NodeProto),
          input: (n.input ?? []).map((i) => renames.get(i) ?? i),
        })
      : n,
  );
  const kept = (source.graph.initializer ?? []).map((t) => replaced.get(t.name ?? '') ?? t);
  const added = [...replaced.values()].filter((t) => !byName.has(t.name ?? ''));
  const graph = eliminateDeadCode({ ...source.graph, node: rewired, initializer: [...kept, ...added] });
  const result = onnx.ModelProto.create({ ...source, graph });
  setMetadata(result, { [LORA_METADATA_KEY]: undefined });
  return result;
}
