import { describe, it } from 'vitest';
import { selectEngine } from '../../engine/engine-selection';
import type { NodeSpec, ValueSpec } from '../../test-support/onnx-model';
import { bools, expectParity, floats, int64s, type ParityCase } from '../../test-support/parity';
import type { ReferenceFeed } from '../../test-support/reference-runtime';

const f32 = (name: string, shape?: number[]): ValueSpec => ({
  name,
  type: 'float32',
  ...(shape ? { shape } : {}),
});

function opCase(
  name: string,
  node: Omit<NodeSpec, 'outputs'> & { outputs?: string[] },
  feeds: Record<string, ReferenceFeed>,
  outputs: ValueSpec[] = [f32('y')],
  extra: Partial<ParityCase> = {},
): ParityCase {
  return {
    name,
    model: {
      inputs: Object.entries(feeds).map(([n, f]) => ({ name: n, type: f.type, shape: f.dims })),
      outputs,
      nodes: [{ ...node, outputs: node.outputs ?? outputs.map((o) => o.name) }],
      opset: extra.model?.opset ?? 17,
    },
    feeds,
    ...extra,
  };
}

const unary = (op: string, attrs?: NodeSpec['attrs'], x = floats([2, 3, 4], 3)) =>
  opCase(
    `${op}${attrs ? ` ${JSON.stringify(attrs)}` : ''}`,
    { op, inputs: ['x'], ...(attrs ? { attrs } : {}) },
    { x },
  );
const positive = (dims: number[], seed: number): ReferenceFeed => {
  const f = floats(dims, seed);
  return { ...f, data: (f.data as Float32Array).map((v) => Math.abs(v) + 0.1) } as ReferenceFeed;
};
const binary = (op: string, a: ReferenceFeed, b: ReferenceFeed, out: ValueSpec = f32('y')) =>
  opCase(`${op} [${a.dims}]·[${b.dims}]`, { op, inputs: ['a', 'b'] }, { a, b }, [out]);

const CASES: ParityCase[] = [
  ...['Sqrt', 'Log', 'Reciprocal'].map((op) => unary(op, undefined, positive([2, 3, 4], 5))),
  ...[
    'Exp',
    'Neg',
    'Abs',
    'Tanh',
    'Sigmoid',
    'Relu',
    'Erf',
    'Sin',
    'Cos',
    'Floor',
    'Ceil',
    'Sign',
    'Softplus',
  ].map((op) => unary(op)),
  unary('LeakyRelu', { alpha: 0.2 }),
  unary('Elu', { alpha: 0.5 }),
  unary('HardSigmoid', { alpha: 0.3, beta: 0.4 }),
  { ...unary('Gelu'), model: { ...unary('Gelu').model, opset: 20 } },
  {
    ...unary('Gelu', { approximate: 'tanh' }),
    model: { ...unary('Gelu', { approximate: 'tanh' }).model, opset: 20 },
  },
  unary('Softmax', { axis: 1 }),
  unary('Softmax'),
  unary('LogSoftmax', { axis: -1 }),
  {
    ...unary('Softmax', { axis: 1 }),
    name: 'Softmax opset 11 (2-D coercion)',
    model: { ...unary('Softmax', { axis: 1 }).model, opset: 11 },
  },
  unary('Identity'),
  binary('Add', floats([2, 3, 4], 1), floats([4], 2)),
  binary('Sub', floats([2, 1, 4], 1), floats([3, 1], 2)),
  binary('Mul', floats([2, 3, 4], 1), floats([1, 3, 1], 2)),
  binary('Div', floats([2, 3], 1), positive([3], 2)),
  binary('Pow', positive([2, 3], 1), floats([2, 3], 2)),
  binary('Pow', floats([2, 3], 1), { type: 'float32', data: Float32Array.of(2), dims: [] }),
  binary('Div', int64s([7, -7, 9, 0, -9, 12]), int64s([2, 2, -4, 3, -2, 5]), { name: 'y', type: 'int64' }),
  binary('Mod', int64s([7, -7, 9, 5]), int64s([3, 3, -4, 5]), { name: 'y', type: 'int64' }),
  binary('Equal', int64s([1, 2, 3]), int64s([1, 0, 3]), { name: 'y', type: 'bool' }),
  binary('Less', floats([2, 3], 1), floats([3], 2), { name: 'y', type: 'bool' }),
  binary('LessOrEqual', floats([2, 3], 1), floats([3], 2), { name: 'y', type: 'bool' }),
  binary('Greater', floats([2, 3], 1), floats([2, 1], 2), { name: 'y', type: 'bool' }),
  binary('GreaterOrEqual', floats([2, 3], 1), floats([2, 1], 2), { name: 'y', type: 'bool' }),
  binary('And', bools([true, true, false, false]), bools([true, false, true, false]), {
    name: 'y',
    type: 'bool',
  }),
  binary('Or', bools([true, true, false, false]), bools([true, false, true, false]), {
    name: 'y',
    type: 'bool',
  }),
  binary('Xor', bools([true, true, false, false]), bools([true, false, true, false]), {
    name: 'y',
    type: 'bool',
  }),
  opCase('Not', { op: 'Not', inputs: ['x'] }, { x: bools([true, false]) }, [{ name: 'y', type: 'bool' }]),
  opCase(
    'Where (broadcast)',
    { op: 'Where', inputs: ['c', 'a', 'b'] },
    { c: bools([true, false, true], [3]), a: floats([2, 3], 1), b: floats([2, 1], 2) },
  ),
  opCase(
    'Sum (3 inputs)',
    { op: 'Sum', inputs: ['a', 'b', 'c'] },
    { a: floats([2, 3], 1), b: floats([3], 2), c: floats([2, 1], 3) },
  ),
  opCase('Mean', { op: 'Mean', inputs: ['a', 'b'] }, { a: floats([2, 3], 1), b: floats([3], 2) }),
  opCase('Max', { op: 'Max', inputs: ['a', 'b'] }, { a: floats([2, 3], 1), b: floats([3], 2) }),
  opCase(
    'Min',
    { op: 'Min', inputs: ['a', 'b', 'c'] },
    { a: floats([2, 3], 1), b: floats([3], 2), c: floats([2, 3], 4) },
  ),
  opCase(
    'Clip (inputs)',
    { op: 'Clip', inputs: ['x', 'lo', 'hi'] },
    {
      x: floats([2, 3, 4], 1),
      lo: { type: 'float32', data: Float32Array.of(-0.3), dims: [] },
      hi: { type: 'float32', data: Float32Array.of(0.4), dims: [] },
    },
  ),
  opCase(
    'Clip (max only)',
    { op: 'Clip', inputs: ['x', '', 'hi'] },
    { x: floats([5], 1), hi: { type: 'float32', data: Float32Array.of(0), dims: [] } },
  ),
  opCase(
    'Cast float→int64 truncates',
    { op: 'Cast', inputs: ['x'], attrs: { to: 7 } },
    { x: floats([6], 9, 3) },
    [{ name: 'y', type: 'int64' }],
  ),
  opCase('Cast int64→float', { op: 'Cast', inputs: ['x'], attrs: { to: 1 } }, { x: int64s([3, -4, 1000]) }),
  opCase(
    'Cast float→bool',
    { op: 'Cast', inputs: ['x'], attrs: { to: 9 } },
    { x: { type: 'float32', data: Float32Array.of(0, 1.5, -2), dims: [3] } },
    [{ name: 'y', type: 'bool' }],
  ),
  opCase(
    'Round (half to even)',
    { op: 'Round', inputs: ['x'] },
    { x: { type: 'float32', data: Float32Array.of(0.5, 1.5, 2.5, -0.5, -1.7, 2.2), dims: [6] } },
  ),
  opCase(
    'IsNaN',
    { op: 'IsNaN', inputs: ['x'] },
    { x: { type: 'float32', data: Float32Array.of(1, Number.NaN, 0), dims: [3] } },
    [{ name: 'y', type: 'bool' }],
  ),
  opCase('CastLike', { op: 'CastLike', inputs: ['x', 'like'] }, { x: floats([4], 3, 4), like: int64s([0]) }, [
    { name: 'y', type: 'int64' },
  ]),
  {
    ...binary('Mod', floats([2, 3], 1, 5), positive([3], 2)),
    name: 'Mod fmod=1 (C fmod on floats)',
    model: {
      ...binary('Mod', floats([2, 3], 1, 5), positive([3], 2)).model,
      nodes: [{ op: 'Mod', inputs: ['a', 'b'], outputs: ['y'], attrs: { fmod: 1 } }],
    },
  },
  opCase('Dropout (inference)', { op: 'Dropout', inputs: ['x'], outputs: ['y'] }, { x: floats([2, 3], 1) }),
];

describe.each(['wasm', 'cpu'] as const)(
  'elementwise operators on the %s engine match onnxruntime',
  (engine) => {
    it.each(CASES)('$name', async (c) => {
      await selectEngine({ engine });
      await expectParity(c);
    });
  },
);
