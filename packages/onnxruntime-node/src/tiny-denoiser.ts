/**
 * A small convolutional denoiser written with onnx-proto, shaped like a UNet
 * export (sample [batch, 4, h, w], int64 timestep [batch] → out_sample), for
 * the tests. Not part of the package's entry point.
 */
import { Generator } from '@noiserefine/core';
import { encodeModel, onnx } from '@noiserefine/onnx';

const T = onnx.TensorProto.DataType;
const HIDDEN = 8;

function tensorInfo(name: string, elemType: number, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

const convPads = { name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1, 1, 1] };

export function tinyDenoiserModel(seed = 0): Uint8Array {
  const generator = new Generator(seed);
  const weights = (name: string, dims: number[], scale: number) => ({
    name,
    dataType: T.FLOAT,
    dims,
    floatData: Array.from(generator.randnValues(dims.reduce((a, b) => a * b, 1)), (v) => v * scale),
  });
  return encodeModel({
    irVersion: 8,
    producerName: 'noiserefine-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'tiny-denoiser',
      node: [
        { opType: 'Conv', input: ['sample', 'w1', 'b1'], output: ['h1'], attribute: [convPads] },
        {
          opType: 'Cast',
          input: ['timestep'],
          output: ['tf'],
          attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT }],
        },
        { opType: 'Reshape', input: ['tf', 'tshape'], output: ['t4'] },
        { opType: 'Mul', input: ['t4', 'tscale'], output: ['temb'] },
        { opType: 'Add', input: ['h1', 'temb'], output: ['h2'] },
        { opType: 'Tanh', input: ['h2'], output: ['h3'] },
        { opType: 'Conv', input: ['h3', 'w2', 'b2'], output: ['out_sample'], attribute: [convPads] },
      ],
      input: [
        tensorInfo('sample', T.FLOAT, ['batch', 4, 'height', 'width']),
        tensorInfo('timestep', T.INT64, ['batch']),
      ],
      output: [tensorInfo('out_sample', T.FLOAT, ['batch', 4, 'height', 'width'])],
      initializer: [
        weights('w1', [HIDDEN, 4, 3, 3], 0.3),
        weights('b1', [HIDDEN], 0.1),
        weights('w2', [4, HIDDEN, 3, 3], 0.2),
        weights('b2', [4], 0.1),
        weights('tscale', [1, HIDDEN, 1, 1], 0.001),
        { name: 'tshape', dataType: T.INT64, dims: [4], int64Data: [-1, 1, 1, 1] },
      ],
    } as never,
  });
}
