/**
 * What the adapter costs in a sampling loop: a 20-step DDIM loop through our API
 * (Model.run + DDIMScheduler.step on core tensors) against a bare loop of
 * session.run plus the same DDIM arithmetic on Float32Arrays, on one MLP
 * denoiser of a few million parameters. Repetitions are interleaved (and their
 * order alternated) so drift in machine speed hits both sides alike.
 *
 *   npm run bench [-- --reps 25 --hidden 640]
 */
import { DDIMScheduler, Generator } from '@noiserefine/core';
import { encodeModel, onnx } from '@noiserefine/onnx';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import * as ort from 'onnxruntime-node';

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i].replace(/^--/, ''), Number(process.argv[i + 1]));
const REPS = args.get('reps') ?? 25;
const WARMUP = 3;
const STEPS = 20;
const HIDDEN = args.get('hidden') ?? 640;
const SHAPE = [1, 4, 32, 32];
const FEATURES = SHAPE.reduce((a, b) => a * b, 1);
const SCHEDULER_CONFIG = {
  betaSchedule: 'scaled_linear',
  betaStart: 0.00085,
  betaEnd: 0.012,
  clipSample: false,
  setAlphaToOne: false,
  stepsOffset: 1,
};

/** An MLP denoiser: flatten → linear → +timestep embedding → relu → linear → relu → linear → reshape. */
function mlpDenoiser() {
  const T = onnx.TensorProto.DataType;
  const generator = new Generator(0);
  let parameters = 0;
  const weights = (name, dims, scale) => {
    const size = dims.reduce((a, b) => a * b, 1);
    parameters += size;
    const values = generator.randnValues(size).map((v) => v * scale);
    return { name, dataType: T.FLOAT, dims, rawData: new Uint8Array(values.buffer) };
  };
  const info = (name, elemType, dims) => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const gemm = (x, w, b, y) => ({ opType: 'Gemm', input: [x, w, b], output: [y] });
  const initializer = [
    weights('w1', [FEATURES, HIDDEN], 1 / Math.sqrt(FEATURES)),
    weights('b1', [HIDDEN], 0.01),
    weights('wt', [HIDDEN], 0.001),
    weights('w2', [HIDDEN, HIDDEN], 1 / Math.sqrt(HIDDEN)),
    weights('b2', [HIDDEN], 0.01),
    weights('w3', [HIDDEN, FEATURES], 1 / Math.sqrt(HIDDEN)),
    weights('b3', [FEATURES], 0.01),
    { name: 'flat', dataType: T.INT64, dims: [2], int64Data: [1, FEATURES] },
    { name: 'shape', dataType: T.INT64, dims: [4], int64Data: SHAPE },
  ];
  const bytes = encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'mlp-denoiser',
      node: [
        { opType: 'Reshape', input: ['sample', 'flat'], output: ['x'] },
        gemm('x', 'w1', 'b1', 'h1'),
        {
          opType: 'Cast',
          input: ['timestep'],
          output: ['tf'],
          attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT }],
        },
        { opType: 'Mul', input: ['tf', 'wt'], output: ['temb'] },
        { opType: 'Add', input: ['h1', 'temb'], output: ['h2'] },
        { opType: 'Relu', input: ['h2'], output: ['h3'] },
        gemm('h3', 'w2', 'b2', 'h4'),
        { opType: 'Relu', input: ['h4'], output: ['h5'] },
        gemm('h5', 'w3', 'b3', 'h6'),
        { opType: 'Reshape', input: ['h6', 'shape'], output: ['out_sample'] },
      ],
      input: [info('sample', T.FLOAT, SHAPE), info('timestep', T.INT64, [1])],
      output: [info('out_sample', T.FLOAT, SHAPE)],
      initializer,
    },
  });
  return { bytes, parameters };
}

import('node:fs').then((f) => f.writeFileSync('/tmp/ortexp/mlp.onnx', mlpDenoiser().bytes));
