import { describe, it } from 'vitest';
import { selectEngine } from '../../engine/engine-selection';
import { expectParity, floats, type ParityCase, singleOpCase } from '../../test-support/parity';

const x = { x: floats([2, 3, 4], 1) };

const CASES: ParityCase[] = [
  singleOpCase(
    'ReduceMean axes attribute (opset 17)',
    { op: 'ReduceMean', inputs: ['x'], attrs: { axes: [-1] } },
    x,
  ),
  singleOpCase(
    'ReduceMean axes input (opset 18)',
    { op: 'ReduceMean', inputs: ['x', 'a'], attrs: { keepdims: 0 } },
    x,
    {
      ints: { a: [0, 2] },
      opset: 18,
    },
  ),
  singleOpCase('ReduceMean over all axes', { op: 'ReduceMean', inputs: ['x'], attrs: { keepdims: 0 } }, x),
  singleOpCase('ReduceSum axes input (opset 13)', { op: 'ReduceSum', inputs: ['x', 'a'] }, x, {
    ints: { a: [1] },
  }),
  singleOpCase(
    'ReduceSum opset 11 attribute',
    { op: 'ReduceSum', inputs: ['x'], attrs: { axes: [0, 1], keepdims: 0 } },
    x,
    { opset: 11 },
  ),
  singleOpCase(
    'ReduceSum noop_with_empty_axes',
    { op: 'ReduceSum', inputs: ['x'], attrs: { noop_with_empty_axes: 1 } },
    x,
  ),
  singleOpCase('ReduceMax', { op: 'ReduceMax', inputs: ['x'], attrs: { axes: [1] } }, x),
  singleOpCase('ReduceMin', { op: 'ReduceMin', inputs: ['x'], attrs: { axes: [0, 2], keepdims: 0 } }, x),
  singleOpCase('ReduceProd', { op: 'ReduceProd', inputs: ['x'], attrs: { axes: [2] } }, x),
  singleOpCase('ReduceSumSquare', { op: 'ReduceSumSquare', inputs: ['x'], attrs: { axes: [2] } }, x),
  singleOpCase('ReduceL2', { op: 'ReduceL2', inputs: ['x'], attrs: { axes: [1] } }, x),
  singleOpCase('ReduceL1', { op: 'ReduceL1', inputs: ['x'], attrs: { axes: [0], keepdims: 0 } }, x),
  singleOpCase('GlobalMaxPool', { op: 'GlobalMaxPool', inputs: ['x'] }, { x: floats([2, 3, 4, 5], 3) }),
  singleOpCase('ArgMax', { op: 'ArgMax', inputs: ['x'], attrs: { axis: -1, keepdims: 0 } }, x, {
    outputs: [{ name: 'y', type: 'int64' }],
  }),
  singleOpCase('ArgMin keepdims', { op: 'ArgMin', inputs: ['x'], attrs: { axis: 1 } }, x, {
    outputs: [{ name: 'y', type: 'int64' }],
  }),
  singleOpCase(
    'GlobalAveragePool',
    { op: 'GlobalAveragePool', inputs: ['x'] },
    { x: floats([2, 3, 4, 5], 2) },
  ),
];

describe.each(['wasm', 'cpu'] as const)('reductions on the %s engine match onnxruntime', (engine) => {
  it.each(CASES)('$name', async (c) => {
    await selectEngine({ engine });
    await expectParity(c);
  });
});
