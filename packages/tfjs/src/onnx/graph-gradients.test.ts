import * as tf from '@tensorflow/tfjs-core';
import { decodeModel } from '@noiserefine/onnx';
import { describe, expect, it } from 'vitest';
import { selectEngine } from '../engine/engine-selection';
import {
  checkGradients,
  checkVariableGradients,
  pseudoRandom,
  weightedSum,
} from '../test-support/gradient-check';
import { buildModel, type ModelSpec } from '../test-support/onnx-model';
import { weights } from '../test-support/parity';
import type { ConvolutionMode } from './ops/index';
import { OnnxGraph } from './graph-executor';

/**
 * Conv (stride 2) → GroupNormalization → tokens → single-head self-attention
 * (MatMul, Transpose, scale, Softmax) → residual → LayerNormalization → MatMul head.
 */
const D = 4;
const ATTENTION_BLOCK: ModelSpec = {
  opset: 18,
  inputs: [{ name: 'x', type: 'float32', shape: [2, 2, 6, 6] }],
  outputs: [{ name: 'y', type: 'float32' }],
  initializers: [
    { name: 'conv.weight', ...weights([D, 2, 3, 3], 1) },
    { name: 'conv.bias', ...weights([D], 2) },
    { name: 'norm.weight', ...weights([2], 3) },
    { name: 'norm.bias', ...weights([2], 4) },
    { name: 'attn.to_q', ...weights([D, D], 5) },
    { name: 'attn.to_k', ...weights([D, D], 6) },
    { name: 'attn.to_v', ...weights([D, D], 7) },
    { name: 'ln.weight', ...weights([D], 8) },
    { name: 'ln.bias', ...weights([D], 9) },
    { name: 'head', ...weights([D, 3], 10) },
    { name: 'tokens_shape', type: 'int64', dims: [3], values: [2, D, 9] },
  ],
  nodes: [
    {
      op: 'Conv',
      inputs: ['x', 'conv.weight', 'conv.bias'],
      outputs: ['c'],
      attrs: { strides: [2, 2], pads: [1, 1, 1, 1] },
    },
    {
      op: 'GroupNormalization',
      inputs: ['c', 'norm.weight', 'norm.bias'],
      outputs: ['n'],
      attrs: { num_groups: 2 },
    },
    { op: 'Reshape', inputs: ['n', 'tokens_shape'], outputs: ['t0'] },
    { op: 'Transpose', inputs: ['t0'], outputs: ['t'], attrs: { perm: [0, 2, 1] } },
    { op: 'MatMul', inputs: ['t', 'attn.to_q'], outputs: ['q'] },
    { op: 'MatMul', inputs: ['t', 'attn.to_k'], outputs: ['k'] },
    { op: 'MatMul', inputs: ['t', 'attn.to_v'], outputs: ['v'] },
    { op: 'Transpose', inputs: ['k'], outputs: ['kt'], attrs: { perm: [0, 2, 1] } },
    { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['s0'] },
    { op: 'Constant', inputs: [], outputs: ['scale'], attrs: { value_float: { float: 1 / Math.sqrt(D) } } },
    { op: 'Mul', inputs: ['s0', 'scale'], outputs: ['s'] },
    { op: 'Softmax', inputs: ['s'], outputs: ['p'], attrs: { axis: -1 } },
    { op: 'MatMul', inputs: ['p', 'v'], outputs: ['o'] },
    { op: 'Add', inputs: ['o', 't'], outputs: ['r'] },
    { op: 'LayerNormalization', inputs: ['r', 'ln.weight', 'ln.bias'], outputs: ['l'], attrs: { axis: -1 } },
    { op: 'MatMul', inputs: ['l', 'head'], outputs: ['y'] },
  ],
};

const input = () => tf.tensor(pseudoRandom(2 * 2 * 6 * 6, 11), [2, 2, 6, 6]);

describe.each([
  ['wasm', 'auto'],
  ['cpu', 'auto'],
  ['wasm', 'patches'],
] as const)('gradients through an ONNX graph (%s engine, %s convolutions)', (engine, convolution) => {
  const load = async (mode: ConvolutionMode) => {
    await selectEngine({ engine });
    return new OnnxGraph(decodeModel(buildModel(ATTENTION_BLOCK)), { trainable: true, convolution: mode });
  };

  it('match central differences for every trainable initializer', async () => {
    const graph = await load(convolution);
    const x = input();
    const loss = () => weightedSum(graph.execute({ x }).y as tf.Tensor);
    const result = checkVariableGradients(loss, [...graph.variables.values()], 1e-2, 6);
    expect([...graph.variables.keys()]).toEqual([
      'conv.weight',
      'conv.bias',
      'norm.weight',
      'norm.bias',
      'attn.to_q',
      'attn.to_k',
      'attn.to_v',
      'ln.weight',
      'ln.bias',
      'head',
    ]);
    expect(result.relativeError).toBeLessThan(5e-3);
    x.dispose();
    graph.dispose();
  });

  it('match central differences with respect to the input', async () => {
    const graph = await load(convolution);
    const x = input();
    const result = checkGradients((v) => weightedSum(graph.execute({ x: v }).y as tf.Tensor), [x], 1e-2, 16);
    expect(result.relativeError).toBeLessThan(5e-3);
    x.dispose();
    graph.dispose();
  });
});
