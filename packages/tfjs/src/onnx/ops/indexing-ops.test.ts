import { describe, it } from 'vitest';
import { selectEngine } from '../../engine/engine-selection';
import { expectParity, floats, int64s, type ParityCase, singleOpCase } from '../../test-support/parity';

const CASES: ParityCase[] = [
  singleOpCase(
    'Gather (embedding rows, repeated and negative ids)',
    { op: 'Gather', inputs: ['w', 'ids'] },
    {
      w: floats([6, 4], 1),
      ids: int64s([0, 5, -1, 2, 2, 3], [2, 3]),
    },
  ),
  singleOpCase(
    'Gather axis 1 with a scalar index',
    { op: 'Gather', inputs: ['x', 'i'], attrs: { axis: 1 } },
    {
      x: floats([2, 3, 4], 2),
      i: int64s([2], []),
    },
  ),
  singleOpCase(
    'GatherND',
    { op: 'GatherND', inputs: ['x', 'i'] },
    { x: floats([3, 4, 2], 3), i: int64s([0, 1, 2, 3, 1, 0], [3, 2]) },
  ),
  singleOpCase(
    'ScatterND',
    { op: 'ScatterND', inputs: ['x', 'i', 'u'] },
    {
      x: floats([4, 3], 4),
      i: int64s([2, 0], [2, 1]),
      u: floats([2, 3], 5),
    },
  ),
  singleOpCase(
    'Trilu upper k=1 (causal mask)',
    { op: 'Trilu', inputs: ['x', 'k'] },
    { x: floats([2, 4, 5], 6) },
    { ints: { k: [1] } },
  ),
  singleOpCase('Trilu lower', { op: 'Trilu', inputs: ['x'], attrs: { upper: 0 } }, { x: floats([4, 3], 7) }),
  singleOpCase(
    'Range (int64)',
    { op: 'Range', inputs: ['s', 'l', 'd'] },
    { s: int64s([2], []), l: int64s([11], []), d: int64s([3], []) },
    {
      outputs: [{ name: 'y', type: 'int64' }],
    },
  ),
  singleOpCase(
    'Range (float, negative delta)',
    { op: 'Range', inputs: ['s', 'l', 'd'] },
    {
      s: { type: 'float32', data: Float32Array.of(1), dims: [] },
      l: { type: 'float32', data: Float32Array.of(-1.1), dims: [] },
      d: { type: 'float32', data: Float32Array.of(-0.3), dims: [] },
    },
  ),
  singleOpCase(
    'ConstantOfShape (default 0.0)',
    { op: 'ConstantOfShape', inputs: ['s'] },
    { s: int64s([2, 3]) },
  ),
  singleOpCase(
    'ConstantOfShape (int64 value)',
    {
      op: 'ConstantOfShape',
      inputs: ['s'],
      attrs: { value: { tensor: { type: 'int64', dims: [1], values: [7] } } },
    },
    { s: int64s([3]) },
    { outputs: [{ name: 'y', type: 'int64' }] },
  ),
  singleOpCase(
    'CumSum exclusive reverse',
    { op: 'CumSum', inputs: ['x', 'a'], attrs: { exclusive: 1, reverse: 1 } },
    { x: floats([2, 5], 8) },
    {
      ints: { a: [1] },
    },
  ),
];

describe.each(['wasm', 'cpu'] as const)('indexing operators on the %s engine match onnxruntime', (engine) => {
  it.each(CASES)('$name', async (c) => {
    await selectEngine({ engine });
    await expectParity(c);
  });
});
