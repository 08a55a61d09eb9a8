import { describe, expect, it } from 'vitest';
import { type GraphProto, onnx } from '../proto';
import { eliminateDeadCode } from './dead-code';

const T = onnx.TensorProto.DataType.FLOAT;
const value = (name: string) =>
  onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: T, shape: { dim: [{ dimValue: 2 }] } } },
  });
const tensor = (name: string) => onnx.TensorProto.create({ name, dataType: T, dims: [2], floatData: [1, 2] });
const node = (opType: string, input: string[], output: string[], extra: object = {}) =>
  onnx.NodeProto.create({ name: `${opType}:${output.join(',')}`, opType, input, output, ...extra });

describe('eliminateDeadCode', () => {
  it('keeps what the outputs need and drops unused nodes, weights and value_info', () => {
    const graph: GraphProto = onnx.GraphProto.create({
      name: 'g',
      input: [value('x'), value('unused_input'), value('w_dead')],
      output: [value('y')],
      initializer: [tensor('w'), tensor('w_dead')],
      node: [
        node('Add', ['x', 'w'], ['a']),
        node('Mul', ['a', 'w_dead'], ['dead']),
        node('Neg', ['dead'], ['dead2']),
        node('Relu', ['a'], ['y']),
      ],
      valueInfo: [value('a'), value('dead')],
    });
    const kept = eliminateDeadCode(graph);
    expect(kept.node!.map((n) => n.opType)).toEqual(['Add', 'Relu']);
    expect(kept.initializer!.map((t) => t.name)).toEqual(['w']);
    // Real inputs stay (the signature is kept); an initializer listed as an input goes with it.
    expect(kept.input!.map((i) => i.name)).toEqual(['x', 'unused_input']);
    expect(kept.valueInfo!.map((v) => v.name)).toEqual(['a']);
    expect(graph.node).toHaveLength(4);
  });

  it('keeps values that only a subgraph reads from the outer scope', () => {
    const thenBranch = onnx.GraphProto.create({
      name: 'then',
      output: [value('t')],
      node: [node('Identity', ['outer'], ['t'])],
    });
    const elseBranch = onnx.GraphProto.create({
      name: 'else',
      output: [value('e')],
      node: [node('Identity', ['x'], ['e'])],
    });
    const graph = onnx.GraphProto.create({
      name: 'g',
      input: [value('x'), value('cond')],
      output: [value('y')],
      node: [
        node('Neg', ['x'], ['outer']),
        node('Abs', ['x'], ['unused']),
        node('If', ['cond'], ['y'], {
          attribute: [
            { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: thenBranch },
            { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: elseBranch },
          ],
        }),
      ],
    });
    expect(eliminateDeadCode(graph).node!.map((n) => n.opType)).toEqual(['Neg', 'If']);
  });
});
