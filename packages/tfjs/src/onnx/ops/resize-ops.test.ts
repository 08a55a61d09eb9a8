import { describe, it } from 'vitest';
import { selectEngine } from '../../engine/engine-selection';
import type { NodeSpec } from '../../test-support/onnx-model';
import { expectParity, floats, type ParityCase, singleOpCase } from '../../test-support/parity';

function resize(
  name: string,
  x: number[],
  attrs: NodeSpec['attrs'],
  how: { scales?: number[]; sizes?: number[] },
  opset = 17,
): ParityCase {
  const inputs = ['x', '', how.scales ? 's' : '', ...(how.sizes ? ['z'] : [])];
  return singleOpCase(
    `Resize ${name}`,
    { op: 'Resize', inputs, attrs },
    { x: floats(x, 1) },
    {
      opset,
      initializers: how.scales
        ? { s: { type: 'float32', dims: [how.scales.length], values: how.scales } }
        : {},
      ints: how.sizes ? { z: how.sizes } : {},
    },
  );
}

const CASES: ParityCase[] = [
  resize(
    'nearest ×2 (torch export: asymmetric, floor)',
    [1, 2, 3, 4],
    { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
    {
      scales: [1, 1, 2, 2],
    },
  ),
  resize('nearest default modes to sizes', [1, 2, 5, 4], { mode: 'nearest' }, { sizes: [1, 2, 3, 7] }),
  resize(
    'nearest round_prefer_ceil',
    [1, 1, 4, 4],
    { mode: 'nearest', nearest_mode: 'round_prefer_ceil' },
    { scales: [1, 1, 1.5, 0.75] },
  ),
  resize('linear half_pixel', [1, 2, 3, 4], { mode: 'linear' }, { scales: [1, 1, 2, 1.5] }),
  resize(
    'linear pytorch_half_pixel',
    [2, 1, 4, 3],
    { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' },
    { sizes: [2, 1, 7, 5] },
  ),
  resize(
    'linear align_corners',
    [1, 2, 3, 3],
    { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
    { sizes: [1, 2, 5, 4] },
  ),
  resize(
    'linear asymmetric downsample',
    [1, 1, 8, 6],
    { mode: 'linear', coordinate_transformation_mode: 'asymmetric' },
    { scales: [1, 1, 0.5, 0.5] },
  ),
  singleOpCase(
    'Upsample (opset 9)',
    { op: 'Upsample', inputs: ['x', 's'], attrs: { mode: 'nearest' } },
    { x: floats([1, 2, 2, 3], 2) },
    {
      opset: 9,
      initializers: { s: { type: 'float32', dims: [4], values: [1, 1, 2, 2] } },
    },
  ),
];

describe.each(['wasm', 'cpu'] as const)('resizing on the %s engine matches onnxruntime', (engine) => {
  it.each(CASES)('$name', async (c) => {
    await selectEngine({ engine });
    await expectParity(c);
  });
});
