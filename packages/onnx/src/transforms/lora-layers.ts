import { onnx, type TensorProto } from '../proto';
import { findAttentionSites, pathFromNodeName } from './attention-layers';
import { GraphIndex, type GraphLike, type NodeLike } from './graph-index';

/** What a weighted layer does: attention projections, other linear layers, or convolutions. */
export type LoraLayerKind = 'attention' | 'feedforward' | 'conv';

export const LORA_LAYER_KINDS: readonly LoraLayerKind[] = ['attention', 'feedforward', 'conv'];

/**
 * How the weight is laid out, which decides how B·A is added to it:
 * 'in-out' is a MatMul operand (x·W, [fanIn, fanOut]); 'out-in' is torch's nn.Linear layout
 * (Gemm with transB = 1); 'conv' is [out, in/groups, kh, kw].
 */
export type LoraWeightLayout = 'in-out' | 'out-in' | 'conv';

/** A MatMul, Gemm or Conv whose weight is a float32 initializer: a place LoRA can go. */
export interface WeightedLayer {
  /** Module path, e.g. `blocks.0.attn.qkv` or `down_blocks.0.resnets.0.conv1`. */
  path: string;
  kind: LoraLayerKind;
  layout: LoraWeightLayout;
  node: NodeLike;
  /** Index of the weight among the node's inputs. */
  weightInput: number;
  /** Name of the weight initializer. */
  weight: string;
  dims: readonly number[];
  /** Rows of B (output features) and columns of A (input features, times the kernel for convolutions). */
  fanOut: number;
  fanIn: number;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
/** Last path segments that name attention projections in the common exporters. */
const ATTENTION_PROJECTION = /^(to_q|to_k|to_v|to_out|q_proj|k_proj|v_proj|out_proj|qkv|query|key|value)$/;

function intAttribute(node: NodeLike, name: string, fallback: number): number {
  const attr = (node.attribute ?? []).find((a) => a.name === name);
  return attr?.i == null ? fallback : Number(attr.i);
}

function dimsOf(tensor: TensorProto): number[] {
  return (tensor.dims ?? []).map((d) => Number(d));
}

/** The weight operand and layout of a projection, or undefined when it has no float32 initializer weight. */
function weightOf(
  node: NodeLike,
  initializers: ReadonlyMap<string, TensorProto>,
): { input: number; layout: LoraWeightLayout; tensor: TensorProto } | undefined {
  if ((node.domain ?? '') !== '') return undefined;
  const inputs = node.input ?? [];
  const tensor = initializers.get(inputs[1] ?? '');
  if (!tensor || tensor.dataType !== FLOAT || initializers.has(inputs[0] ?? '')) return undefined;
  const rank = tensor.dims?.length ?? 0;
  switch (node.opType) {
    case 'MatMul':
      return rank === 2 ? { input: 1, layout: 'in-out', tensor } : undefined;
    case 'Gemm':
      if (rank !== 2 || intAttribute(node, 'transA', 0) !== 0) return undefined;
      return { input: 1, layout: intAttribute(node, 'transB', 0) === 1 ? 'out-in' : 'in-out', tensor };
    case 'Conv':
      return rank >= 3 ? { input: 1, layout: 'conv', tensor } : undefined;
    default:
      return undefined;
  }
}

/**
 * The layer's module path: the weight's own name when the exporter kept it
 * (`conv_in.weight` → `conv_in`), else the node's scope (`/blocks.0/attn/qkv/MatMul` →
 * `blocks.0.attn.qkv`; our builder's `blocks.0.attn.to_q.MatMul` → `blocks.0.attn.to_q`).
 */
function layerPath(node: NodeLike, weight: string): string {
  if (!weight.includes('::') && weight.endsWith('.weight')) return weight.slice(0, -'.weight'.length);
  return pathFromNodeName(node.name ?? '') ?? weight;
}

function isAttentionPath(path: string, attentionPaths: readonly string[]): boolean {
  if (attentionPaths.some((a) => path.startsWith(`${a}.`))) return true;
  const segments = path.split('.').filter((s) => !/^\d+$/.test(s));
  return ATTENTION_PROJECTION.test(segments[segments.length - 1] ?? '');
}

/** Every MatMul, Gemm and Conv of the main graph whose weight is a float32 initializer, in graph order. */
export function findWeightedLayers(graph: GraphLike): WeightedLayer[] {
  const index = new GraphIndex(graph);
  const initializers = new Map(
    ((graph.initializer ?? []) as TensorProto[]).map((t) => [t.name ?? '', t] as const),
  );
  const attentionPaths = findAttentionSites(index).map((s) => s.layer.path);
  const layers: WeightedLayer[] = [];
  const used = new Map<string, number>();
  for (const node of index.nodes) {
    const weight = weightOf(node, initializers);
    if (!weight) continue;
    const name = weight.tensor.name ?? '';
    const dims = dimsOf(weight.tensor);
    const base = layerPath(node, name);
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    const path = n === 1 ? base : `${base}#${n}`;
    const kind: LoraLayerKind =
      weight.layout === 'conv' ? 'conv' : isAttentionPath(path, attentionPaths) ? 'attention' : 'feedforward';
    const [d0, d1] = dims as [number, number];
    const kernel = dims.slice(1).reduce((p, d) => p * d, 1);
    layers.push({
      path,
      kind,
      layout: weight.layout,
      node,
      weightInput: weight.input,
      weight: name,
      dims,
      fanOut: weight.layout === 'in-out' ? d1 : d0,
      fanIn: weight.layout === 'in-out' ? d0 : weight.layout === 'out-in' ? d1 : kernel,
    });
  }
  return layers;
}

/** "path (kind)" for messages. */
export function describeLayers(layers: readonly Pick<WeightedLayer, 'path' | 'kind'>[]): string {
  return layers.length === 0 ? 'none' : layers.map((l) => `${JSON.stringify(l.path)} (${l.kind})`).join(', ');
}
