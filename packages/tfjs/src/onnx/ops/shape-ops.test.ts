import { describe, it } from 'vitest';
import { selectEngine } from '../../engine/engine-selection';
import type { NodeSpec, ValueSpec } from '../../test-support/onnx-model';
import { expectParity, floats, type ParityCase, singleOpCase } from '../../test-support/parity';
import type { ReferenceFeed } from '../../test-support/reference-runtime';

function opCase(
  name: string,
  node: Omit<NodeSpec, 'outputs'>,
  feeds: Record<string, ReferenceFeed>,
  ints: Record<string, number[]> = {},
  options: { outputs?: ValueSpec[]; opset?: number } = {},
): ParityCase {
  return singleOpCase(name, node, feeds, { ...options, ints });
}

const x234 = { x: floats([2, 3, 4], 1) };
const split = (n: number) =>
  Array.from({ length: n }, (_, i): ValueSpec => ({ name: `y${i}`, type: 'float32' }));

const CASES: ParityCase[] = [
  opCase('Reshape with 0 and -1', { op: 'Reshape', inputs: ['x', 's'] }, x234, { s: [0, -1] }),
  opCase('Reshape to 4-D', { op: 'Reshape', inputs: ['x', 's'] }, x234, { s: [2, 3, 2, 2] }),
  opCase('Flatten axis 2', { op: 'Flatten', inputs: ['x'], attrs: { axis: 2 } }, x234),
  opCase('Transpose', { op: 'Transpose', inputs: ['x'], attrs: { perm: [2, 0, 1] } }, x234),
  opCase('Transpose (default reverses)', { op: 'Transpose', inputs: ['x'] }, x234),
  opCase(
    'Squeeze axes input',
    { op: 'Squeeze', inputs: ['x', 'a'] },
    { x: floats([2, 1, 3, 1], 2) },
    { a: [1, -1] },
  ),
  opCase('Squeeze all', { op: 'Squeeze', inputs: ['x'] }, { x: floats([2, 1, 3, 1], 2) }),
  opCase(
    'Squeeze opset 11 attribute',
    { op: 'Squeeze', inputs: ['x'], attrs: { axes: [1] } },
    { x: floats([2, 1, 3], 2) },
    {},
    { opset: 11 },
  ),
  opCase('Unsqueeze axes input', { op: 'Unsqueeze', inputs: ['x', 'a'] }, x234, { a: [0, -1] }),
  opCase(
    'Unsqueeze opset 11 attribute',
    { op: 'Unsqueeze', inputs: ['x'], attrs: { axes: [1, 3] } },
    x234,
    {},
    { opset: 11 },
  ),
  opCase(
    'Concat axis -1',
    { op: 'Concat', inputs: ['a', 'b'], attrs: { axis: -1 } },
    { a: floats([2, 3], 1), b: floats([2, 2], 2) },
  ),
  {
    ...opCase(
      'Split with sizes input',
      { op: 'Split', inputs: ['x', 's'], attrs: { axis: 2 } },
      x234,
      { s: [1, 3] },
      { outputs: split(2) },
    ),
  },
  opCase('Split equal', { op: 'Split', inputs: ['x'], attrs: { axis: 1 } }, x234, {}, { outputs: split(3) }),
  opCase(
    'Split opset 11 attribute',
    { op: 'Split', inputs: ['x'], attrs: { axis: 2, split: [3, 1] } },
    x234,
    {},
    { outputs: split(2), opset: 11 },
  ),
  opCase(
    'Split num_outputs (opset 18, uneven)',
    { op: 'Split', inputs: ['x'], attrs: { axis: 1, num_outputs: 3 } },
    { x: floats([2, 7], 4) },
    {},
    {
      outputs: split(3),
      opset: 18,
    },
  ),
  opCase('Slice', { op: 'Slice', inputs: ['x', 's', 'e', 'a'] }, x234, { s: [1, 0], e: [3, -1], a: [1, 2] }),
  opCase('Slice with end sentinel', { op: 'Slice', inputs: ['x', 's', 'e', 'a'] }, x234, {
    s: [1],
    e: [9223372036854775807n as unknown as number],
    a: [2],
  }),
  opCase('Slice step 2', { op: 'Slice', inputs: ['x', 's', 'e', 'a', 'st'] }, x234, {
    s: [0],
    e: [4],
    a: [2],
    st: [2],
  }),
  opCase('Slice step -1 (reverse)', { op: 'Slice', inputs: ['x', 's', 'e', 'a', 'st'] }, x234, {
    s: [-1],
    e: [-9223372036854775807n as unknown as number],
    a: [2],
    st: [-1],
  }),
  opCase(
    'Slice step -2',
    { op: 'Slice', inputs: ['x', 's', 'e', 'a', 'st'] },
    { x: floats([2, 7], 3) },
    { s: [5], e: [0], a: [1], st: [-2] },
  ),
  opCase(
    'Slice opset 9 attributes',
    { op: 'Slice', inputs: ['x'], attrs: { starts: [0, 1], ends: [1, 3], axes: [0, 2] } },
    x234,
    {},
    { opset: 9 },
  ),
  opCase('Expand', { op: 'Expand', inputs: ['x', 's'] }, { x: floats([3, 1], 2) }, { s: [2, 1, 4] }),
  opCase(
    'Expand (shape of lower rank)',
    { op: 'Expand', inputs: ['x', 's'] },
    { x: floats([2, 3, 1], 2) },
    { s: [3, 4] },
  ),
  opCase('Tile', { op: 'Tile', inputs: ['x', 'r'] }, { x: floats([2, 3], 2) }, { r: [2, 3] }),
  opCase('Pad constant', { op: 'Pad', inputs: ['x', 'p'] }, x234, { p: [0, 1, 2, 0, 2, 1] }),
  opCase('Pad reflect', { op: 'Pad', inputs: ['x', 'p'], attrs: { mode: 'reflect' } }, x234, {
    p: [0, 0, 2, 0, 1, 1],
  }),
  opCase('Pad edge', { op: 'Pad', inputs: ['x', 'p'], attrs: { mode: 'edge' } }, x234, {
    p: [0, 2, 1, 0, 1, 3],
  }),
  opCase('Pad negative (crop)', { op: 'Pad', inputs: ['x', 'p'] }, x234, { p: [0, -1, 1, 0, 0, -2] }),
  opCase(
    'Pad opset 2 attributes',
    { op: 'Pad', inputs: ['x'], attrs: { pads: [0, 1, 0, 1], value: { float: 0.5 } } },
    { x: floats([2, 3], 1) },
    {},
    { opset: 2 },
  ),
  opCase('Shape', { op: 'Shape', inputs: ['x'] }, x234, {}, { outputs: [{ name: 'y', type: 'int64' }] }),
  opCase(
    'Shape start/end',
    { op: 'Shape', inputs: ['x'], attrs: { start: 1, end: -1 } },
    x234,
    {},
    { outputs: [{ name: 'y', type: 'int64' }] },
  ),
  opCase('Size', { op: 'Size', inputs: ['x'] }, x234, {}, { outputs: [{ name: 'y', type: 'int64' }] }),
  {
    name: 'Shape arithmetic chain (as torch exports reshapes)',
    model: {
      inputs: [{ name: 'x', type: 'float32', shape: [2, 3, 4] }],
      outputs: [{ name: 'y', type: 'float32' }],
      initializers: [
        { name: 'i0', type: 'int64', dims: [], values: [0] },
        { name: 'two', type: 'int64', dims: [], values: [2] },
        { name: 'ax0', type: 'int64', dims: [1], values: [0] },
      ],
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'i0'], outputs: ['b'], attrs: { axis: 0 } },
        { op: 'Mul', inputs: ['b', 'two'], outputs: ['b2'] },
        { op: 'Div', inputs: ['b2', 'two'], outputs: ['b3'] },
        { op: 'Unsqueeze', inputs: ['b3', 'ax0'], outputs: ['b4'] },
        {
          op: 'Constant',
          inputs: [],
          outputs: ['rest'],
          attrs: { value: { tensor: { type: 'int64', dims: [1], values: [-1] } } },
        },
        { op: 'Concat', inputs: ['b4', 'rest'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] },
      ],
    },
    feeds: x234,
  },
];

describe.each(['wasm', 'cpu'] as const)('shape operators on the %s engine match onnxruntime', (engine) => {
  it.each(CASES)('$name', async (c) => {
    await selectEngine({ engine });
    await expectParity(c);
  });
});
