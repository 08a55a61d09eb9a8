/**
 * A small denoiser in the style of newer diffusers exports (timestep as a
 * float32 scalar), written with onnx-proto: out = W₂·tanh(W₁·x + b₁ + t·s) + b₂
 * over channels (1×1 convolutions) followed by a 3×3 smoothing convolution.
 */
import { Generator } from '@noiserefine/core';
import { encodeModel, onnx } from '@noiserefine/onnx';

const T = onnx.TensorProto.DataType;
const INT = onnx.AttributeProto.AttributeType.INT;
const INTS = onnx.AttributeProto.AttributeType.INTS;
const HIDDEN = 16;

function tensorInfo(name: string, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: T.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function scalarTimestepDenoiser(seed = 0): Uint8Array {
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
      name: 'scalar-timestep-denoiser',
      node: [
        { opType: 'Conv', input: ['sample', 'w1', 'b1'], output: ['h1'] },
        { opType: 'Mul', input: ['timestep', 'tscale'], output: ['temb'] },
        { opType: 'Add', input: ['h1', 'temb'], output: ['h2'] },
        { opType: 'Tanh', input: ['h2'], output: ['h3'] },
        { opType: 'Conv', input: ['h3', 'w2', 'b2'], output: ['h4'] },
        {
          opType: 'Conv',
          input: ['h4', 'smooth'],
          output: ['out_sample'],
          attribute: [
            { name: 'pads', type: INTS, ints: [1, 1, 1, 1] },
            { name: 'group', type: INT, i: 4 },
          ],
        },
      ],
      input: [tensorInfo('sample', ['batch', 4, 'height', 'width']), tensorInfo('timestep', [])],
      output: [tensorInfo('out_sample', ['batch', 4, 'height', 'width'])],
      initializer: [
        weights('w1', [HIDDEN, 4, 1, 1], 0.5),
        weights('b1', [HIDDEN], 0.1),
        weights('tscale', [1, HIDDEN, 1, 1], 0.002),
        weights('w2', [4, HIDDEN, 1, 1], 0.25),
        weights('b2', [4], 0.05),
        weights('smooth', [4, 1, 3, 3], 0.3),
      ],
    } as never,
  });
}

/** An fp16 export in miniature: y = 2·x with x and y float16 [n]. */
export function float16DoublerModel(): Uint8Array {
  const info = (name: string) => ({
    name,
    type: { tensorType: { elemType: T.FLOAT16, shape: { dim: [{ dimParam: 'n' }] } } },
  });
  const cast = (to: number, input: string, output: string) => ({
    opType: 'Cast',
    input: [input],
    output: [output],
    attribute: [{ name: 'to', type: INT, i: to }],
  });
  return encodeModel({
    irVersion: 8,
    producerName: 'noiserefine-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'float16-doubler',
      node: [
        cast(T.FLOAT, 'x', 'x32'),
        { opType: 'Add', input: ['x32', 'x32'], output: ['y32'] },
        cast(T.FLOAT16, 'y32', 'y'),
      ],
      input: [info('x')],
      output: [info('y')],
    } as never,
  });
}
