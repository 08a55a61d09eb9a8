import { decodeModel, type ModelProto } from '../proto';
import { GraphIndex, type NodeLike } from './graph-index';

/** 'self': queries, keys and values are projections of the same tokens; 'cross': keys/values come from elsewhere. */
export type AttentionKind = 'self' | 'cross';

/** One attention found in a graph. */
export interface AttentionLayer {
  /**
   * Module path, e.g. `mid_block.attentions.0.transformer_blocks.0.attn1` or `blocks.1.attn`:
   * from the node names' scopes (torch.onnx.export's `/mid_block/…/attn1/Softmax`, our
   * builder's `blocks.1.attn.attention_probs`), else from the projections' parameter names.
   * Layer patterns are matched against it.
   */
  path: string;
  kind: AttentionKind;
  /** Name of the Softmax node. */
  softmax: string;
  /** Name of the node that weights the values by the probabilities (MatMul or Einsum). */
  weighting: string;
  /** The values operand of that node: V in its head-split layout. */
  values: string;
  /** What the query, key and value projections read (the hidden states; the context for keys/values of cross-attention). */
  sources: { query: string[]; key: string[]; value: string[] };
}

/** An attention with the graph nodes a rewrite needs. */
export interface AttentionSite {
  layer: AttentionLayer;
  weightingNode: NodeLike;
}

/** Ops between the score product and the Softmax: scaling, masks, casts, soft-capping. */
const SCORE_OPS = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Cast',
  'Where',
  'Identity',
  'Reshape',
  'Clip',
  'Max',
  'Min',
  'Tanh',
]);
/** Ops between the Softmax and the weighting product. */
const PROBABILITY_OPS = new Set(['Cast', 'Dropout', 'Identity']);
/** Layout ops between the weighting product and the output projection. */
const LAYOUT_OPS = new Set(['Transpose', 'Reshape', 'Cast', 'Identity', 'Squeeze', 'Unsqueeze', 'Flatten']);
const PROJECTION_OPS = new Set(['MatMul', 'Gemm', 'Conv']);
/** How far the score search walks back from the Softmax. */
const MAX_SCORE_DEPTH = 8;

/** Every attention in the model's main graph, in graph order. */
export function findAttentionLayers(model: ModelProto | Uint8Array): AttentionLayer[] {
  const proto = model instanceof Uint8Array ? decodeModel(model) : model;
  return findAttentionSites(new GraphIndex(proto.graph ?? {})).map((s) => s.layer);
}

/**
 * Finds attentions structurally: a Softmax whose probabilities multiply a values operand
 * (MatMul(P, V), or an Einsum contracting P's last axis with V) and whose input comes from a
 * product of two activations (Q·Kᵀ) through scaling, masking and casts. This covers
 * hand-written attention, diffusers' processors (baddbmm/bmm, heads folded into the batch)
 * and the decomposition torch.onnx gives scaled_dot_product_attention. Fused runtime
 * operators (com.microsoft Attention, MultiHeadAttention) are not attention here.
 */
export function findAttentionSites(index: GraphIndex): AttentionSite[] {
  const found: { weightingNode: NodeLike; layer: Omit<AttentionLayer, 'path'>; paths: Paths }[] = [];
  for (const node of index.nodes) {
    if (node.opType !== 'Softmax' || (node.domain ?? '') !== '') continue;
    const weighting = findWeighting(index, node);
    const scores = weighting && findScoreProduct(index, node);
    if (!weighting || !scores) continue;
    const [queryInput, keyInput] = index.dynamicInputs(scores) as [string, string];
    const query = traceProjections(index, queryInput);
    const key = traceProjections(index, keyInput);
    const value = traceProjections(index, weighting.values);
    const sameTokens = sameSet(query.sources, key.sources) && sameSet(query.sources, value.sources);
    const parameters = [
      ...[query, key, value].flatMap((t) => t.projections.flatMap((p) => projectionParameters(index, p))),
      ...outputProjectionParameters(index, weighting.node),
    ];
    found.push({
      weightingNode: weighting.node,
      layer: {
        kind: sameTokens && query.sources.size > 0 ? 'self' : 'cross',
        softmax: node.name ?? '',
        weighting: weighting.node.name ?? '',
        values: weighting.values,
        sources: { query: [...query.sources], key: [...key.sources], value: [...value.sources] },
      },
      paths: {
        fromNodes: pathFromNodeName(node.name ?? '') ?? pathFromNodeName(weighting.node.name ?? ''),
        fromParameters: pathFromParameterNames(parameters),
        fallback: node.name || (node.output?.[0] ?? 'attention'),
      },
    });
  }
  const paths = resolvePaths(found.map((f) => f.paths));
  return found.map((f, i) => ({
    weightingNode: f.weightingNode,
    layer: { path: paths[i] as string, ...f.layer },
  }));
}

function findWeighting(index: GraphIndex, softmax: NodeLike): { node: NodeLike; values: string } | undefined {
  let probs = softmax.output?.[0];
  for (let step = 0; probs && step < 4; step++) {
    const consumers = dataConsumers(index, probs);
    const products = consumers.flatMap((n) => {
      const values = weightedValues(n, probs as string);
      return values === undefined ? [] : [{ node: n, values }];
    });
    if (products.length === 1) return products[0];
    if (products.length > 1 || consumers.length !== 1) return undefined;
    const next = consumers[0] as NodeLike;
    if (!PROBABILITY_OPS.has(next.opType ?? '') || index.isGraphOutput(probs)) return undefined;
    probs = next.output?.[0];
  }
  return undefined;
}

/** The values operand when `node` computes P·V with P = `probs`, in a layout where V can stand in for the result. */
function weightedValues(node: NodeLike, probs: string): string | undefined {
  const inputs = node.input ?? [];
  if ((node.domain ?? '') !== '' || inputs.length !== 2) return undefined;
  if (node.opType === 'MatMul') return inputs[0] === probs ? inputs[1] : undefined;
  if (node.opType !== 'Einsum') return undefined;
  const p = inputs.indexOf(probs);
  if (p < 0 || inputs[0] === inputs[1]) return undefined;
  const attr = (node.attribute ?? []).find((a) => a.name === 'equation');
  const equation = attr?.s ? new TextDecoder().decode(attr.s) : '';
  return einsumKeepsValueLayout(equation, p) ? inputs[1 - p] : undefined;
}

/**
 * For an Einsum P·V (P at operand `probsOperand`): true when P's last axis is the one summed
 * against V and the result has V's axes in V's order with the query axis in the key axis's
 * place, e.g. 'bij,bjd->bid'. Then with identity probabilities the result is exactly V.
 */
export function einsumKeepsValueLayout(equation: string, probsOperand: number): boolean {
  const compact = equation.replaceAll(' ', '').replaceAll('...', '#');
  const [lhs, out] = compact.split('->');
  const operands = lhs?.split(',') ?? [];
  if (out === undefined || operands.length !== 2) return false;
  const probs = operands[probsOperand] as string;
  const values = operands[1 - probsOperand] as string;
  const summed = [...probs].filter((c) => values.includes(c) && !out.includes(c));
  const queries = [...probs].filter((c) => out.includes(c) && !values.includes(c));
  if (summed.length !== 1 || queries.length !== 1 || probs[probs.length - 1] !== summed[0]) return false;
  return out.replace(queries[0] as string, summed[0] as string) === values;
}

/** The Q·Kᵀ product feeding the Softmax: a MatMul or Einsum of two activations. */
function findScoreProduct(index: GraphIndex, softmax: NodeLike): NodeLike | undefined {
  const start = softmax.input?.[0];
  if (!start) return undefined;
  const queue: [string, number][] = [[start, 0]];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const [value, depth] = queue.shift() as [string, number];
    if (seen.has(value)) continue;
    seen.add(value);
    const node = index.producer(value);
    if (!node || (node.domain ?? '') !== '') continue;
    const dynamic = index.dynamicInputs(node);
    if ((node.opType === 'MatMul' || node.opType === 'Einsum') && dynamic.length === 2) return node;
    if (SCORE_OPS.has(node.opType ?? '') && depth < MAX_SCORE_DEPTH) {
      for (const input of dynamic) queue.push([input, depth + 1]);
    }
  }
  return undefined;
}

/** The data operand of a projection (MatMul/Gemm/Conv with static weights), or undefined. */
function projectionInput(index: GraphIndex, node: NodeLike): string | undefined {
  if (!PROJECTION_OPS.has(node.opType ?? '') || (node.domain ?? '') !== '') return undefined;
  const [a, b] = node.input ?? [];
  if (!a || !b) return undefined;
  const [aStatic, bStatic] = [index.isStatic(a), index.isStatic(b)];
  if (bStatic && !aStatic) return a;
  // Weights on the left (W·x): only MatMul and Gemm can hold them there.
  if (aStatic && !bStatic && node.opType !== 'Conv') return b;
  return undefined;
}

/**
 * Walks back from `start` through every activation path and stops at projections. Returns
 * the values those projections read (or graph inputs reached without one): two tensors read
 * the same tokens exactly when these sets agree.
 */
function traceProjections(
  index: GraphIndex,
  start: string,
): { sources: Set<string>; projections: NodeLike[] } {
  const sources = new Set<string>();
  const projections: NodeLike[] = [];
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const value = stack.pop() as string;
    if (seen.has(value)) continue;
    seen.add(value);
    const node = index.producer(value);
    if (!node) {
      sources.add(value);
      continue;
    }
    const input = projectionInput(index, node);
    if (input !== undefined) {
      sources.add(input);
      if (!projections.includes(node)) projections.push(node);
      continue;
    }
    stack.push(...index.dynamicInputs(node));
  }
  return { sources, projections };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** Initializers a projection uses: its weight (through casts/transposes of it) and an added bias. */
function projectionParameters(index: GraphIndex, projection: NodeLike): string[] {
  const names: string[] = [];
  const pending = (projection.input ?? []).filter((n) => n !== '' && index.isStatic(n));
  for (let steps = 0; pending.length > 0 && steps < 16; steps++) {
    const value = pending.pop() as string;
    if (index.initializers.has(value)) names.push(value);
    else pending.push(...(index.producer(value)?.input ?? []).filter((n) => n !== '' && index.isStatic(n)));
  }
  const output = projection.output?.[0];
  for (const consumer of output ? index.consumers(output) : []) {
    if (consumer.opType !== 'Add') continue;
    names.push(...(consumer.input ?? []).filter((n) => index.initializers.has(n)));
  }
  return names;
}

/** Parameters of the projection the weighted values flow into (e.g. `to_out.0`, `proj`). */
function outputProjectionParameters(index: GraphIndex, weighting: NodeLike): string[] {
  let value = weighting.output?.[0];
  for (let step = 0; value && step < 8; step++) {
    const consumers = dataConsumers(index, value);
    if (consumers.length !== 1) return [];
    const next = consumers[0] as NodeLike;
    if (projectionInput(index, next) === value) return projectionParameters(index, next);
    if (!LAYOUT_OPS.has(next.opType ?? '')) return [];
    value = next.output?.[0];
  }
  return [];
}

/** Consumers that read a value's data, not just its shape (head merges often reshape by a Shape of it). */
function dataConsumers(index: GraphIndex, value: string): readonly NodeLike[] {
  return index.consumers(value).filter((n) => n.opType !== 'Shape' && n.opType !== 'Size');
}

interface Paths {
  fromNodes: string | undefined;
  fromParameters: string | undefined;
  fallback: string;
}

/**
 * Module path from a node name: torch.onnx.export scopes ('/mid_block/attentions.0/…/attn1/Softmax')
 * or dotted builder names ('blocks.1.attn.attention_probs'), minus the node's own label.
 */
export function pathFromNodeName(name: string): string | undefined {
  const segments = name.includes('/') ? name.split('/').filter((s) => s !== '') : name.split('.');
  const path = segments.slice(0, -1).join('.');
  return path === '' ? undefined : path;
}

/**
 * The attention module owning these projection parameters: the longest common module prefix
 * of 'blocks.1.attn.qkv.bias' and 'blocks.1.attn.proj.weight' ('blocks.1.attn'); with a single
 * projection, its parent ('…attn1.to_out.0.bias' → '…attn1'). Exporter-generated names
 * ('onnx::MatMul_12') say nothing and are skipped.
 */
export function pathFromParameterNames(names: readonly string[]): string | undefined {
  const modules = [
    ...new Set(
      names.filter((n) => !n.includes('::') && n.includes('.')).map((n) => n.slice(0, n.lastIndexOf('.'))),
    ),
  ];
  if (modules.length === 0) return undefined;
  let segments = (modules[0] as string).split('.');
  if (modules.length === 1) {
    while (segments.length > 0 && /^\d+$/.test(segments[segments.length - 1] as string)) segments.pop();
    segments = segments.slice(0, -1);
  } else {
    for (const other of modules.slice(1)) {
      const parts = other.split('.');
      let common = 0;
      while (common < segments.length && segments[common] === parts[common]) common++;
      segments = segments.slice(0, common);
    }
  }
  const path = segments.join('.');
  return path === '' ? undefined : path;
}

/**
 * One path per attention. Node scopes win (exporters may share identical parameters between
 * modules, so parameter names can point at another layer); where scopes collide (a parent
 * module whose forward was bypassed drops out of torch's scopes) parameter names decide, and
 * any remaining duplicates get a `#n` suffix so every layer stays selectable.
 */
function resolvePaths(all: readonly Paths[]): string[] {
  const count = (values: (string | undefined)[]) => {
    const counts = new Map<string, number>();
    for (const v of values) if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
    return counts;
  };
  const nodeCounts = count(all.map((p) => p.fromNodes));
  const parameterCounts = count(all.map((p) => p.fromParameters));
  const chosen = all.map((p) => {
    if (p.fromNodes !== undefined && nodeCounts.get(p.fromNodes) === 1) return p.fromNodes;
    if (p.fromParameters !== undefined && parameterCounts.get(p.fromParameters) === 1)
      return p.fromParameters;
    return p.fromNodes ?? p.fromParameters ?? p.fallback;
  });
  const seen = new Map<string, number>();
  return chosen.map((path) => {
    const n = (seen.get(path) ?? 0) + 1;
    seen.set(path, n);
    return n === 1 ? path : `${path}#${n}`;
  });
}
