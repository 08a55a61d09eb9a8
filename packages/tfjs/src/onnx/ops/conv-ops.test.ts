import { describe, it } from 'vitest';
import { selectEngine } from '../../engine/engine-selection';
import type { NodeSpec } from '../../test-support/onnx-model';
import { expectParity, floats, type ParityCase, singleOpCase, weights } from '../../test-support/parity';

function conv(
  name: string,
  x: number[],
  w: number[],
  attrs: NodeSpec['attrs'] = {},
  options: { bias?: boolean; op?: string } = {},
): ParityCase {
  const op = options.op ?? 'Conv';
  const outChannels = op === 'Conv' ? (w[0] as number) : (w[1] as number) * ((attrs?.group as number) ?? 1);
  return singleOpCase(
    `${op} ${name}`,
    { op, inputs: options.bias === false ? ['x', 'w'] : ['x', 'w', 'b'], attrs },
    { x: floats(x, 1) },
    { initializers: { w: weights(w, 2), b: weights([outChannels], 3) }, atol: 2e-5, rtol: 1e-4 },
  );
}

const CASES: ParityCase[] = [
  conv('3×3 pad 1', [2, 3, 6, 6], [4, 3, 3, 3], { pads: [1, 1, 1, 1] }),
  conv('stride 2, asymmetric pads', [1, 3, 7, 6], [2, 3, 3, 3], { strides: [2, 2], pads: [0, 1, 1, 0] }),
  conv('1×1 no bias', [2, 4, 5, 5], [3, 4, 1, 1], {}, { bias: false }),
  conv('groups 2', [1, 4, 5, 5], [6, 2, 3, 3], { group: 2, pads: [1, 1, 1, 1] }),
  conv('depthwise', [1, 4, 5, 5], [4, 1, 3, 3], { group: 4 }),
  conv('dilation 2', [1, 2, 7, 7], [3, 2, 3, 3], { dilations: [2, 2], pads: [2, 2, 2, 2] }),
  conv('dilation 2 with stride 2', [1, 2, 9, 9], [3, 2, 3, 3], { dilations: [2, 2], strides: [2, 2] }),
  conv('SAME_UPPER', [1, 2, 5, 6], [2, 2, 3, 2], { auto_pad: 'SAME_UPPER', strides: [2, 2] }),
  conv('SAME_LOWER', [1, 2, 5, 6], [2, 2, 3, 2], { auto_pad: 'SAME_LOWER', strides: [2, 1] }),
  conv('1-D', [2, 3, 10], [4, 3, 3], { pads: [1, 1], strides: [2] }),
  conv('patch embedding (kernel = stride = 2)', [2, 4, 8, 8], [8, 4, 2, 2], { strides: [2, 2] }),
  conv(
    'stride 2, k 4, pad 1',
    [1, 3, 4, 4],
    [3, 2, 4, 4],
    { strides: [2, 2], pads: [1, 1, 1, 1] },
    { op: 'ConvTranspose' },
  ),
  conv(
    'stride 2, output_padding',
    [1, 2, 3, 3],
    [2, 3, 3, 3],
    { strides: [2, 2], output_padding: [1, 1] },
    { op: 'ConvTranspose' },
  ),
  conv(
    'groups 2, dilation 2',
    [1, 4, 3, 3],
    [4, 1, 2, 2],
    { group: 2, dilations: [2, 2] },
    { op: 'ConvTranspose' },
  ),
  conv(
    'output_shape',
    [1, 2, 3, 3],
    [2, 2, 3, 3],
    { strides: [2, 2], output_shape: [6, 6] },
    { op: 'ConvTranspose' },
  ),
  conv('1-D', [1, 2, 5], [2, 3, 3], { strides: [3], pads: [1, 0] }, { op: 'ConvTranspose' }),
];

describe.each(['wasm', 'cpu'] as const)('convolutions on the %s engine match onnxruntime', (engine) => {
  it.each(CASES)('$name', async (c) => {
    await selectEngine({ engine });
    await expectParity(c);
  });

  it.each(CASES.slice(0, 4))('$name (as patches and matrix products)', async (c) => {
    await selectEngine({ engine });
    await expectParity({ ...c, options: { convolution: 'patches' } });
  });
});
