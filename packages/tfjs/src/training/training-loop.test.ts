import * as tf from '@tensorflow/tfjs-core';
import { mean, square, sub, type Tensor } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { tfjsBackend } from '../backend';
import { pseudoRandom } from '../test-support/gradient-check';
import { buildModel } from '../test-support/onnx-model';
import { weights } from '../test-support/parity';
import { AdamW } from './optimizers';
import { getCosineScheduleWithWarmup } from './schedules';
import { trainStep } from './train-step';

const STEPS = 1000;

/** x → Linear → LayerNorm → Gelu(erf) → Linear, as our graph builder writes it. */
const MODEL = buildModel({
  inputs: [{ name: 'x', type: 'float32', shape: ['batch', 4] }],
  outputs: [{ name: 'y', type: 'float32', shape: ['batch', 2] }],
  initializers: [
    { name: 'fc1.weight', ...weights([4, 16], 1) },
    { name: 'fc1.bias', ...weights([16], 2) },
    { name: 'norm.weight', type: 'float32', dims: [16], values: new Array(16).fill(1) },
    { name: 'norm.bias', type: 'float32', dims: [16], values: new Array(16).fill(0) },
    { name: 'fc2.weight', ...weights([16, 2], 3) },
  ],
  nodes: [
    { op: 'MatMul', inputs: ['x', 'fc1.weight'], outputs: ['h0'] },
    { op: 'Add', inputs: ['h0', 'fc1.bias'], outputs: ['h1'] },
    {
      op: 'LayerNormalization',
      inputs: ['h1', 'norm.weight', 'norm.bias'],
      outputs: ['h2'],
      attrs: { axis: -1 },
    },
    { op: 'Constant', inputs: [], outputs: ['inv_sqrt2'], attrs: { value_float: { float: Math.SQRT1_2 } } },
    { op: 'Mul', inputs: ['h2', 'inv_sqrt2'], outputs: ['g0'] },
    { op: 'Erf', inputs: ['g0'], outputs: ['g1'] },
    { op: 'Constant', inputs: [], outputs: ['one'], attrs: { value_float: { float: 1 } } },
    { op: 'Add', inputs: ['g1', 'one'], outputs: ['g2'] },
    { op: 'Mul', inputs: ['h2', 'g2'], outputs: ['g3'] },
    { op: 'Constant', inputs: [], outputs: ['half'], attrs: { value_float: { float: 0.5 } } },
    { op: 'Mul', inputs: ['g3', 'half'], outputs: ['h3'] },
    { op: 'MatMul', inputs: ['h3', 'fc2.weight'], outputs: ['y'] },
  ],
});

describe('a training loop on an ONNX model', () => {
  it(`keeps tf.memory().numTensors constant over ${STEPS} steps and fits the data`, async () => {
    const backend = await tfjsBackend({ engine: 'wasm' });
    const model = await backend.loadModel(MODEL, { trainable: true });
    const x = backend.tensors.fromData(pseudoRandom(32, 5), [8, 4]);
    const target = backend.tensors.fromData(pseudoRandom(16, 6), [8, 2]);
    const optimizer = new AdamW({
      lr: 0.01,
      schedule: getCosineScheduleWithWarmup({ numWarmupSteps: 50, numTrainingSteps: STEPS }),
    });
    const loss = (): Tensor => mean(square(sub(model.forward({ x }).y as Tensor, target)));
    const losses: number[] = [];
    let afterWarmup = 0;
    for (let step = 0; step < STEPS; step++) {
      const result = await trainStep({ loss, optimizer, variables: model.variables, maxGradNorm: 1 });
      losses.push(result.loss);
      if (step === 9) afterWarmup = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(afterWarmup);
    expect(losses[STEPS - 1]).toBeLessThan((losses[0] as number) / 20);
    optimizer.dispose();
    x.dispose();
    target.dispose();
    await backend.dispose();
  });
});
