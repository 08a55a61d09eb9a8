import { InvalidArgumentError, ModelSignatureError } from '@noiserefine/core';
import { onnx, type TensorProto } from '../proto';
import { pathFromNodeName } from './attention-layers';
import { GraphIndex, type GraphLike, type NodeLike } from './graph-index';
import { compileLayerPatterns, matchesLayerPattern } from './layer-patterns';
import type { LoraLayerRecord } from './lora';

/**
 * Where the timestep embedding comes out, by module path: diffusers' UNets and our SD UNets
 * (`time_embedding.linear_2`, or `time_embedding.2` for an nn.Sequential), DiT/SiT
 * (`t_embedder.mlp.2`, our `t_embedder.linear_2`, a Sequential's `t_embedder.2`), and the
 * `timestep_embedder.linear_2` of PixArt/SD3-style embedders.
 */
export const DEFAULT_TIMESTEP_EMBEDDING_PATTERNS: readonly string[] = [
  '(^|\\.)time_embedding\\.(linear_)?2$',
  '(^|\\.)t_embedder\\.(mlp\\.|linear_)?2$',
  '(^|\\.)timestep_embedder\\.linear_2$',
];

/** The tensor a conditioning embedding is added to, and what is known about it. */
export interface TimestepEmbeddingSite {
  /** The value name of the embedding [B or 1, D]. */
  tensor: string;
  /** The module path it was found by (e.g. `time_embedding.linear_2`). */
  layer: string;
  /** D, when the producing layer's weights tell it. */
  embeddingDim?: number;
  /** The width of the sinusoid the embedder starts from, when the graph shows it. */
  frequencyDim?: number;
}

export interface FindTimestepEmbeddingOptions {
  /** The embedding by exact value name; overrides `patterns`. */
  tensor?: string;
  /** Layer patterns over module paths (regular expressions); default DEFAULT_TIMESTEP_EMBEDDING_PATTERNS. */
  patterns?: readonly string[];
  /** LoRA records of the model (its `lora_layers` metadata): adapted weights are read through them. */
  lora?: readonly LoraLayerRecord[];
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** Module paths a node belongs to: its scope in the node name, and the modules of the named parameters it reads. */
function modulePaths(node: NodeLike, initializers: ReadonlySet<string>): string[] {
  const paths = new Set<string>();
  const scope = pathFromNodeName(node.name ?? '');
  if (scope) paths.add(scope);
  for (const input of node.input ?? []) {
    const dot = input.lastIndexOf('.');
    if (initializers.has(input) && !input.includes('::') && dot > 0) paths.add(input.slice(0, dot));
  }
  return [...paths];
}

interface Component {
  nodes: NodeLike[];
  paths: string[];
  /** Activations produced inside and read outside (or graph outputs). */
  outputs: string[];
}

/** Groups nodes that pass values to each other (a layer's MatMul and its bias Add) into components. */
function components(
  index: GraphIndex,
  nodes: readonly NodeLike[],
  paths: Map<NodeLike, string[]>,
): Component[] {
  const parent = new Map<NodeLike, NodeLike>(nodes.map((n) => [n, n]));
  const root = (n: NodeLike): NodeLike => {
    let r = n;
    while (parent.get(r) !== r) r = parent.get(r) as NodeLike;
    return r;
  };
  const members = new Set(nodes);
  for (const node of nodes) {
    for (const input of node.input ?? []) {
      const producer = index.producer(input);
      if (producer && members.has(producer)) parent.set(root(producer), root(node));
    }
  }
  const groups = new Map<NodeLike, NodeLike[]>();
  for (const node of nodes) {
    const r = root(node);
    groups.set(r, [...(groups.get(r) ?? []), node]);
  }
  return [...groups.values()].map((group) => {
    const inside = new Set(group);
    const outputs = group
      .flatMap((n) => n.output ?? [])
      .filter(
        (v) =>
          v !== '' &&
          !index.isStatic(v) &&
          (index.isGraphOutput(v) || index.consumers(v).some((c) => !inside.has(c))),
      );
    return { nodes: group, paths: [...new Set(group.flatMap((n) => paths.get(n) ?? []))], outputs };
  });
}

/** A weight operand's initializer: itself, or for a LoRA-adapted weight the frozen W it adapts. */
function weightTensor(
  name: string,
  tensors: ReadonlyMap<string, TensorProto>,
  lora: readonly LoraLayerRecord[],
): TensorProto | undefined {
  return tensors.get(name) ?? tensors.get(lora.find((r) => r.adapted === name)?.weight ?? '');
}

/** [fanIn, fanOut] of a MatMul or Gemm with a rank-2 float weight, else undefined. */
function projectionFans(
  node: NodeLike,
  tensors: ReadonlyMap<string, TensorProto>,
  lora: readonly LoraLayerRecord[],
): [number, number] | undefined {
  if (node.opType !== 'MatMul' && node.opType !== 'Gemm') return undefined;
  const weight = weightTensor(node.input?.[1] ?? '', tensors, lora);
  const dims = (weight?.dims ?? []).map(Number);
  if (!weight || weight.dataType !== FLOAT || dims.length !== 2) return undefined;
  const transB = (node.attribute ?? []).find((a) => a.name === 'transB')?.i;
  const [d0, d1] = dims as [number, number];
  return node.opType === 'Gemm' && Number(transB ?? 0) === 1 ? [d1, d0] : [d0, d1];
}

/** D from the layer that produces the embedding: a bias add's length, else the projection's fan-out. */
function embeddingWidth(
  index: GraphIndex,
  tensors: ReadonlyMap<string, TensorProto>,
  lora: readonly LoraLayerRecord[],
  value: string,
): number | undefined {
  const node = index.producer(value);
  if (!node) return undefined;
  const inputs = node.input ?? [];
  const bias = (name: string | undefined) => {
    const dims = (tensors.get(name ?? '')?.dims ?? []).map(Number);
    return dims.length >= 1 && dims.slice(0, -1).every((d) => d === 1) ? dims[dims.length - 1] : undefined;
  };
  if (node.opType === 'Add') {
    const dynamic = index.dynamicInputs(node);
    const staticInput = inputs.find((i) => !dynamic.includes(i));
    const fromBias = bias(staticInput);
    if (fromBias !== undefined) return fromBias;
    return dynamic.length === 1 ? embeddingWidth(index, tensors, lora, dynamic[0] as string) : undefined;
  }
  if (node.opType === 'Gemm' && bias(inputs[2]) !== undefined) return bias(inputs[2]);
  return projectionFans(node, tensors, lora)?.[1];
}

/**
 * The width of the sinusoid the embedder starts from: walking back from the embedding along
 * the activations to the Sin/Cos, the fan-in of the last projection passed (the MLP's first layer).
 */
function sinusoidWidth(
  index: GraphIndex,
  tensors: ReadonlyMap<string, TensorProto>,
  lora: readonly LoraLayerRecord[],
  value: string,
): number | undefined {
  let fanIn: number | undefined;
  let current = value;
  for (let depth = 0; depth < 48; depth++) {
    const node = index.producer(current);
    if (!node) return undefined;
    if (node.opType === 'Sin' || node.opType === 'Cos') return fanIn;
    fanIn = projectionFans(node, tensors, lora)?.[0] ?? fanIn;
    const next = index.dynamicInputs(node)[0];
    if (next === undefined) return undefined;
    current = next;
  }
  return undefined;
}

function describe(component: Component): string {
  const where = component.paths.map((p) => JSON.stringify(p)).join('/');
  return component.outputs.length === 1
    ? `${where} → tensor ${JSON.stringify(component.outputs[0])}`
    : `${where} (${component.outputs.length} outputs: ${component.outputs.map((o) => JSON.stringify(o)).join(', ')})`;
}

/** Module paths that look like embeddings, for error messages. */
function embeddingLikePaths(index: GraphIndex, paths: Map<NodeLike, string[]>): string {
  const all = [...new Set(index.nodes.flatMap((n) => paths.get(n) ?? []))];
  const likely = all.filter((p) => /emb|time/i.test(p));
  const shown = (likely.length > 0 ? likely : all).slice(0, 24);
  return shown.length === 0
    ? 'none'
    : `${shown.map((p) => JSON.stringify(p)).join(', ')}${shown.length < (likely.length || all.length) ? ', …' : ''}`;
}

/**
 * Finds the timestep-embedding tensor: the output of the one layer (a connected group of nodes
 * whose module path matches a pattern) with a single activation output, e.g. the Add after
 * `time_embedding.linear_2`'s MatMul, or the Gemm of `t_embedder.mlp.2`. Fails with the
 * candidates when no layer or several layers match.
 */
export function findTimestepEmbedding(
  graph: GraphLike,
  options: FindTimestepEmbeddingOptions = {},
): TimestepEmbeddingSite {
  const index = new GraphIndex(graph);
  const tensors = new Map(((graph.initializer ?? []) as TensorProto[]).map((t) => [t.name ?? '', t]));
  const lora = options.lora ?? [];
  const paths = new Map(index.nodes.map((n) => [n, modulePaths(n, index.initializers)] as const));
  const site = (tensor: string, layer: string): TimestepEmbeddingSite => {
    const embeddingDim = embeddingWidth(index, tensors, lora, tensor);
    const frequencyDim = sinusoidWidth(index, tensors, lora, tensor);
    return {
      tensor,
      layer,
      ...(embeddingDim === undefined ? {} : { embeddingDim }),
      ...(frequencyDim === undefined ? {} : { frequencyDim }),
    };
  };

  if (options.tensor !== undefined) {
    const producer = index.producer(options.tensor);
    if (!producer || index.isStatic(options.tensor)) {
      throw new InvalidArgumentError(
        `timestep embedding: expected "${options.tensor}" to be an activation computed by a node of the graph, got ${producer ? 'a static value' : 'no node producing it'}`,
      );
    }
    return site(options.tensor, pathFromNodeName(producer.name ?? '') ?? options.tensor);
  }

  const patterns = options.patterns ?? DEFAULT_TIMESTEP_EMBEDDING_PATTERNS;
  const compiled = compileLayerPatterns(patterns, 'timestep embedding patterns');
  const matched = index.nodes.filter((n) =>
    (paths.get(n) ?? []).some((p) => compiled.some((re) => matchesLayerPattern(re, p))),
  );
  const found = components(index, matched, paths).filter((c) => c.outputs.length > 0);
  const wanted = `one timestep-embedding layer matching ${patterns.map((p) => JSON.stringify(p)).join(', ')}`;
  if (found.length === 0) {
    throw new ModelSignatureError(
      `timestep embedding: expected ${wanted}, found none; embedding-like modules of this graph: ${embeddingLikePaths(index, paths)} (pass a pattern for one of them, or the tensor name)`,
    );
  }
  const [only] = found;
  if (found.length > 1 || only?.outputs.length !== 1) {
    throw new ModelSignatureError(
      `timestep embedding: expected ${wanted} with a single output, found ${found.map(describe).join('; ')} (narrow the patterns, or pass the tensor name)`,
    );
  }
  const layer = only.paths.find((p) => compiled.some((re) => matchesLayerPattern(re, p))) as string;
  return site(only.outputs[0] as string, layer);
}
