import * as tf from '@tensorflow/tfjs-core';
import {
  InvalidArgumentError,
  ModelLoadError,
  ModelSignatureError,
  UnsupportedOperatorError,
  UnsupportedOptionError,
} from '@noiserefine/core';
import { decodeModel, type GraphProto, onnx } from '@noiserefine/onnx';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectEngine } from '../engine/engine-selection';
import { buildModel, type ModelSpec } from '../test-support/onnx-model';
import { expectParity, floats, weights } from '../test-support/parity';
import { OnnxGraph } from './graph-executor';

const load = (spec: ModelSpec, options = {}) => new OnnxGraph(decodeModel(buildModel(spec)), options);

const MLP: ModelSpec = {
  inputs: [{ name: 'x', type: 'float32', shape: ['batch', 4] }],
  outputs: [{ name: 'y', type: 'float32', shape: ['batch', 2] }],
  initializers: [
    { name: 'fc1.weight', ...weights([4, 8], 1) },
    { name: 'fc1.bias', ...weights([8], 2) },
    { name: 'fc2.weight', ...weights([8, 2], 3) },
    { name: 'shape', type: 'int64', dims: [2], values: [-1, 2] },
  ],
  nodes: [
    { op: 'MatMul', inputs: ['x', 'fc1.weight'], outputs: ['h0'] },
    { op: 'Add', inputs: ['h0', 'fc1.bias'], outputs: ['h1'] },
    { op: 'Tanh', inputs: ['h1'], outputs: ['h'] },
    { op: 'MatMul', inputs: ['h', 'fc2.weight'], outputs: ['y0'] },
    { op: 'Reshape', inputs: ['y0', 'shape'], outputs: ['y'] },
  ],
};

beforeAll(async () => {
  await selectEngine({ engine: 'wasm' });
});

describe('loading', () => {
  it('rejects an unsupported operator at load time, naming the operator and the node', () => {
    const spec: ModelSpec = {
      inputs: [{ name: 'x', type: 'float32', shape: [2] }],
      outputs: [{ name: 'y', type: 'float32' }],
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['r'] },
        { op: 'NonMaxSuppression', inputs: ['r'], outputs: ['y'], name: 'nms_node' },
      ],
    };
    const before = tf.memory().numTensors;
    const error = (() => {
      try {
        load(spec);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnsupportedOperatorError);
    expect((error as UnsupportedOperatorError).opType).toBe('NonMaxSuppression');
    expect((error as UnsupportedOperatorError).nodeName).toBe('nms_node');
    expect((error as Error).message).toContain('"NonMaxSuppression" (node "nms_node")');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the domain of operators from other domains', () => {
    const spec: ModelSpec = {
      inputs: [{ name: 'x', type: 'float32', shape: [2] }],
      outputs: [{ name: 'y', type: 'float32' }],
      nodes: [
        { op: 'FusedMatMul', domain: 'com.microsoft', inputs: ['x', 'x'], outputs: ['y'], name: 'fused' },
      ],
    };
    expect(() => load(spec)).toThrow(/"com\.microsoft\.FusedMatMul" \(node "fused"\)/);
  });

  it('rejects unsupported attribute values at load time', () => {
    const spec: ModelSpec = {
      inputs: [{ name: 'x', type: 'float32', shape: [1, 1, 2, 2] }],
      outputs: [{ name: 'y', type: 'float32' }],
      initializers: [{ name: 's', type: 'float32', dims: [4], values: [1, 1, 2, 2] }],
      nodes: [{ op: 'Resize', inputs: ['x', '', 's'], outputs: ['y'], attrs: { mode: 'cubic' } }],
    };
    expect(() => load(spec)).toThrow(UnsupportedOptionError);
    expect(() => load(spec)).toThrow(/Resize mode "cubic"; supported: "nearest", "linear"/);
  });

  it('reports a value that nothing produces', () => {
    const spec: ModelSpec = {
      inputs: [{ name: 'x', type: 'float32', shape: [2] }],
      outputs: [{ name: 'y', type: 'float32' }],
      nodes: [{ op: 'Add', inputs: ['x', 'ghost'], outputs: ['y'] }],
    };
    expect(() => load(spec)).toThrow(ModelLoadError);
    expect(() => load(spec)).toThrow(/"ghost" is produced by no node/);
  });

  it('accepts a model assembled from plain objects', () => {
    const graph = new OnnxGraph(
      onnx.ModelProto.create({
        opsetImport: [{ domain: '', version: 17 }],
        graph: {
          input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
          output: [{ name: 'y', type: { tensorType: { elemType: 1 } } }],
          initializer: [{ name: 'w', dataType: 1, dims: [2], floatData: [2, 3] }],
          node: [{ opType: 'Mul', input: ['x', 'w'], output: ['y'] }],
        },
      }),
    );
    const x = tf.tensor([1, 2]);
    const { y } = graph.execute({ x });
    expect(Array.from((y as tf.Tensor).dataSync())).toEqual([2, 6]);
    tf.dispose([x, y as tf.Tensor]);
    graph.dispose();
  });

  it('runs nodes listed out of order', async () => {
    const nodes = [...(MLP.nodes as NonNullable<ModelSpec['nodes']>)].reverse();
    await expectParity({
      name: 'reversed node list',
      model: { ...MLP, nodes },
      feeds: { x: floats([3, 4], 1) },
    });
  });

  it('reports input and output metadata, with symbolic dimensions and overrides', () => {
    const graph = load(MLP);
    expect(graph.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 4] }]);
    expect(graph.outputs).toEqual([{ name: 'y', dtype: 'float32', shape: ['batch', 2] }]);
    graph.dispose();
    const fixed = load(MLP, { freeDimensionOverrides: { batch: 5 } });
    expect(fixed.inputs[0]?.shape).toEqual([5, 4]);
    fixed.dispose();
  });

  it('does not list initializers as inputs when the file repeats them as graph inputs', () => {
    const bytes = buildModel(MLP);
    const proto = decodeModel(bytes);
    (proto.graph as GraphProto).input.push(
      onnx.ValueInfoProto.create({
        name: 'fc1.bias',
        type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 8 }] } } },
      }),
    );
    const graph = new OnnxGraph(proto);
    expect(graph.inputs.map((i) => i.name)).toEqual(['x']);
    graph.dispose();
  });
});

describe('initializers', () => {
  it('makes the selected float initializers trainable variables and leaves the rest constant', () => {
    const all = load(MLP, { trainable: true });
    expect([...all.variables.keys()]).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight']);
    all.dispose();
    const some = load(MLP, { trainable: /^fc1\./ });
    expect([...some.variables.keys()]).toEqual(['fc1.weight', 'fc1.bias']);
    expect(some.variables.get('fc1.weight')?.trainable).toBe(true);
    some.dispose();
    const named = load(MLP, { trainable: ['fc2.weight'] });
    expect([...named.variables.keys()]).toEqual(['fc2.weight']);
    named.dispose();
    const none = load(MLP);
    expect(none.variables.size).toBe(0);
    none.dispose();
  });

  it('two loads of one model get separate variables', () => {
    const a = load(MLP, { trainable: true });
    const b = load(MLP, { trainable: true });
    expect(a.variables.get('fc1.weight')).not.toBe(b.variables.get('fc1.weight'));
    a.dispose();
    b.dispose();
  });

  it('converts float16 initializers and computes like onnxruntime', async () => {
    // 1.5, -2.25, 0.099976 (0x2E66) and 65504 (max half) as float16 bits.
    const halfBits = [0x3e00, 0xc080, 0x2e66, 0x7bff];
    await expectParity({
      name: 'float16 weights cast to float',
      model: {
        inputs: [{ name: 'x', type: 'float32', shape: [4] }],
        outputs: [{ name: 'y', type: 'float32' }],
        initializers: [{ name: 'w16', type: 'float16', dims: [4], values: halfBits }],
        nodes: [
          { op: 'Cast', inputs: ['w16'], outputs: ['w'], attrs: { to: 1 } },
          { op: 'Mul', inputs: ['x', 'w'], outputs: ['y'] },
        ],
      },
      feeds: { x: floats([4], 2) },
    });
  });

  it('converts int64 to int32, saturating the ±2⁶³ sentinels and rejecting other out-of-range values', () => {
    const spec = (value: bigint): ModelSpec => ({
      inputs: [{ name: 'x', type: 'float32', shape: [4] }],
      outputs: [{ name: 'y', type: 'float32' }],
      initializers: [
        { name: 's', type: 'int64', dims: [1], values: [0n] },
        { name: 'e', type: 'int64', dims: [1], values: [value] },
      ],
      nodes: [{ op: 'Slice', inputs: ['x', 's', 'e'], outputs: ['y'] }],
    });
    const ok = load(spec(9223372036854775807n));
    const x = tf.tensor([1, 2, 3, 4]);
    const { y } = ok.execute({ x });
    expect(Array.from((y as tf.Tensor).dataSync())).toEqual([1, 2, 3, 4]);
    tf.dispose([x, y as tf.Tensor]);
    ok.dispose();
    expect(() => load(spec(5_000_000_000n))).toThrow(InvalidArgumentError);
    expect(() => load(spec(5_000_000_000n))).toThrow(/int64 value 5000000000 .* does not fit int32/);
  });
});

describe('execution', () => {
  it('frees every intermediate tensor', () => {
    const graph = load(MLP, { trainable: true });
    const x = tf.tensor(new Float32Array(12).fill(0.5), [3, 4]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(Object.values(graph.execute({ x })));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    graph.dispose();
  });

  it('computes only what the requested outputs need', () => {
    const spec: ModelSpec = {
      inputs: [
        { name: 'a', type: 'float32', shape: [2] },
        { name: 'b', type: 'float32', shape: [2] },
      ],
      outputs: [
        { name: 'ya', type: 'float32' },
        { name: 'yb', type: 'float32' },
      ],
      nodes: [
        { op: 'Neg', inputs: ['a'], outputs: ['ya'] },
        { op: 'Exp', inputs: ['b'], outputs: ['yb'] },
      ],
    };
    const graph = load(spec);
    const a = tf.tensor([1, 2]);
    const out = graph.execute({ a }, ['ya']);
    expect(Object.keys(out)).toEqual(['ya']);
    expect(Array.from((out.ya as tf.Tensor).dataSync())).toEqual([-1, -2]);
    expect(() => graph.execute({ a })).toThrow(ModelSignatureError);
    expect(() => graph.execute({ a })).toThrow(/missing input "b"/);
    tf.dispose([a, out.ya as tf.Tensor]);
    graph.dispose();
  });

  it('returns a copy when an output is an input or an initializer', () => {
    const spec: ModelSpec = {
      inputs: [{ name: 'x', type: 'float32', shape: [2] }],
      outputs: [
        { name: 'x', type: 'float32' },
        { name: 'w', type: 'float32' },
      ],
      initializers: [{ name: 'w', type: 'float32', dims: [1], values: [3] }],
      nodes: [],
    };
    const graph = load(spec);
    const x = tf.tensor([1, 2]);
    const out = graph.execute({ x });
    expect(out.x).not.toBe(x);
    tf.dispose(Object.values(out));
    expect(x.isDisposed).toBe(false);
    x.dispose();
    graph.dispose();
  });

  it('names the node when an operator fails at run time', () => {
    const spec: ModelSpec = {
      inputs: [{ name: 'x', type: 'float32', shape: [6] }],
      outputs: [{ name: 'y', type: 'float32' }],
      initializers: [{ name: 's', type: 'int64', dims: [2], values: [4, 4] }],
      nodes: [{ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'], name: 'bad_reshape' }],
    };
    const graph = load(spec);
    const x = tf.zeros([6]);
    const before = tf.memory().numTensors;
    expect(() => graph.execute({ x })).toThrow(/node "bad_reshape" \(Reshape\): cannot reshape \[6\]/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    graph.dispose();
  });

  it('refuses to run after dispose and releases its tensors', () => {
    const before = tf.memory().numTensors;
    const graph = load(MLP, { trainable: /weight/ });
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    graph.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const x = tf.zeros([1, 4]);
    expect(() => graph.execute({ x })).toThrow(/used after dispose/);
    x.dispose();
  });
});
