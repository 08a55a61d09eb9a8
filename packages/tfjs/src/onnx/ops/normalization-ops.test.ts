import { describe, it } from 'vitest';
import { selectEngine } from '../../engine/engine-selection';
import { expectParity, floats, type ParityCase, singleOpCase, weights } from '../../test-support/parity';

const CASES: ParityCase[] = [
  singleOpCase(
    'LayerNormalization (last axis)',
    { op: 'LayerNormalization', inputs: ['x', 'g', 'b'], attrs: { epsilon: 1e-5 } },
    {
      x: floats([2, 3, 8], 1, 3),
    },
    { initializers: { g: weights([8], 2), b: weights([8], 3) } },
  ),
  singleOpCase(
    'LayerNormalization axis 1, no bias, Mean and InvStdDev outputs',
    { op: 'LayerNormalization', inputs: ['x', 'g'], attrs: { axis: 1 } },
    { x: floats([2, 3, 4], 4) },
    {
      initializers: { g: weights([3, 4], 5) },
      outputs: [
        { name: 'y', type: 'float32' },
        { name: 'mean', type: 'float32' },
        { name: 'inv_std', type: 'float32' },
      ],
    },
  ),
  singleOpCase(
    'InstanceNormalization',
    { op: 'InstanceNormalization', inputs: ['x', 'g', 'b'], attrs: { epsilon: 1e-6 } },
    {
      x: floats([2, 4, 3, 5], 6, 2),
    },
    { initializers: { g: weights([4], 7), b: weights([4], 8) } },
  ),
  singleOpCase(
    'GroupNormalization (opset 21, per-channel affine)',
    { op: 'GroupNormalization', inputs: ['x', 'g', 'b'], attrs: { num_groups: 2 } },
    {
      x: floats([2, 6, 3, 3], 9, 2),
    },
    { initializers: { g: weights([6], 10), b: weights([6], 11) }, opset: 21 },
  ),
  singleOpCase(
    'GroupNormalization (opset 18, per-group affine)',
    { op: 'GroupNormalization', inputs: ['x', 'g', 'b'], attrs: { num_groups: 3, epsilon: 1e-4 } },
    {
      x: floats([1, 6, 4], 12, 2),
    },
    { initializers: { g: weights([3], 13), b: weights([3], 14) }, opset: 18 },
  ),
  singleOpCase(
    'BatchNormalization (inference)',
    { op: 'BatchNormalization', inputs: ['x', 'g', 'b', 'm', 'v'] },
    { x: floats([2, 3, 4, 4], 15) },
    {
      initializers: {
        g: weights([3], 16),
        b: weights([3], 17),
        m: weights([3], 18),
        v: { type: 'float32', dims: [3], values: [0.5, 1, 2] },
      },
    },
  ),
];

describe.each(['wasm', 'cpu'] as const)('normalizations on the %s engine match onnxruntime', (engine) => {
  it.each(CASES)('$name', async (c) => {
    await selectEngine({ engine });
    await expectParity(c);
  });
});
