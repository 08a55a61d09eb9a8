import { InvalidArgumentError } from '@noiserefine/core';
import type { TensorProto } from '../proto';
import { GraphIndex, type GraphLike, type NodeLike } from './graph-index';
import { pathFromNodeName } from './attention-layers';

/** The last weighted layer before a graph output: what a refiner re-initialises to zero. */
export interface OutputProjection {
  /** Module path, e.g. `final_layer.linear` or `conv_out`. */
  path: string;
  /** The MatMul, Gemm or Conv node. */
  node: string;
  /** Its weight initializer. */
  weight: string;
  /** Bias initializers between it and the output (Gemm's C, Conv's B, an added bias). */
  biases: string[];
}

/** Ops that move or select values without mixing them with other activations. */
const LAYOUT_OPS = new Set([
  'Reshape',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Flatten',
  'Identity',
  'Cast',
  'Slice',
  'Split',
  'Einsum',
  'Gather',
  'DepthToSpace',
  'SpaceToDepth',
]);
/** Ops whose other operand, when static, scales or shifts (a bias, an output scale). */
const AFFINE_OPS = new Set(['Add', 'Sub', 'Mul', 'Div']);
const PROJECTION_OPS = new Set(['MatMul', 'Gemm', 'Conv']);

function isFloatInitializer(index: GraphIndex, tensors: ReadonlyMap<string, TensorProto>, name: string) {
  return index.initializers.has(name) && [1, 10, 11, 16].includes(tensors.get(name)?.dataType ?? 0);
}

/**
 * Walks back from a graph output through layout ops (reshapes, transposes, unpatchify
 * einsums, slices) and static scales/biases to the weighted node that computes it: the
 * output projection (`final_layer.linear`, `conv_out`, `proj_out`). Zeroing its weight and
 * biases makes the output exactly zero for any input.
 */
export function findOutputProjection(graph: GraphLike, output?: string): OutputProjection {
  const outputs = (graph.output ?? []).map((o) => o.name ?? '');
  const name = output ?? outputs[0];
  if (name === undefined || !outputs.includes(name)) {
    throw new InvalidArgumentError(
      `refiner graph: expected an output of the model, got ${JSON.stringify(output ?? null)}; the model has ${outputs.map((o) => JSON.stringify(o)).join(', ') || 'none'}`,
    );
  }
  const index = new GraphIndex(graph);
  const tensors = new Map(((graph.initializer ?? []) as TensorProto[]).map((t) => [t.name ?? '', t]));
  const biases: string[] = [];
  let value = name;
  const trail: string[] = [];
  for (let depth = 0; depth < 64; depth++) {
    const node: NodeLike | undefined = index.producer(value);
    const op = node?.opType ?? '';
    if (!node) break;
    trail.push(`${op} "${node.name ?? ''}"`);
    const inputs = node.input ?? [];
    const dynamic = index.dynamicInputs(node);
    if (PROJECTION_OPS.has(op) && dynamic.length === 1 && dynamic[0] === inputs[0]) {
      const weight = inputs[1] ?? '';
      if (isFloatInitializer(index, tensors, weight)) {
        const bias = inputs[2];
        if (bias && isFloatInitializer(index, tensors, bias)) biases.push(bias);
        return {
          path:
            weight.endsWith('.weight') && !weight.includes('::')
              ? weight.slice(0, -'.weight'.length)
              : (pathFromNodeName(node.name ?? '') ?? weight),
          node: node.name ?? '',
          weight,
          biases,
        };
      }
    }
    if (dynamic.length !== 1) break;
    if (AFFINE_OPS.has(op)) {
      // A static shift must become zero too; a static scale keeps zero at zero.
      if (op === 'Add' || op === 'Sub') {
        for (const i of inputs) if (i !== dynamic[0] && isFloatInitializer(index, tensors, i)) biases.push(i);
        const constantShift = inputs.some((i) => i !== dynamic[0] && !index.initializers.has(i));
        if (constantShift) break;
      } else if (op === 'Div' && inputs[1] === dynamic[0]) {
        break;
      }
    } else if (!LAYOUT_OPS.has(op)) {
      break;
    }
    value = dynamic[0] as string;
  }
  throw new InvalidArgumentError(
    `refiner graph: expected output "${name}" to come from a MatMul, Gemm or Conv with an initializer weight ` +
      `through layout ops and static biases only, got the chain ${trail.join(' ← ') || '(no producing node)'}`,
  );
}
