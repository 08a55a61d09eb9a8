import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectEngine } from '../engine/engine-selection';
import { checkGradients, randomTensor, weightedSum } from '../test-support/gradient-check';
import { ADAPTER_GRADIENTS } from './register-gradients';

type Case = [name: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: () => tf.Tensor[]];

/** Values in ±[0.2, 1.2): away from the kinks of abs, relu, max. */
const awayFromZero = (shape: number[], seed: number) =>
  tf.tidy(() => {
    const r = randomTensor(shape, seed);
    return tf.add(r, tf.mul(tf.sign(r), 0.2));
  });
/** Distinct values 0.1 apart in [-0.55, 0.55], so a ±eps step never reorders them or crosses ±0.5. */
const spaced = (shape: number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Array.from({ length: n }, (_, i) => ((i * 7) % n) * 0.1 - 0.55),
    shape,
  );
};
const positive = (shape: number[], seed: number) =>
  tf.tidy(() => tf.add(tf.abs(randomTensor(shape, seed)), 0.5));

const CASES: Case[] = [
  ['Neg', (x) => tf.neg(x), () => [randomTensor([2, 3], 1)]],
  ['Abs', (x) => tf.abs(x), () => [awayFromZero([2, 3], 2)]],
  ['Sqrt', (x) => tf.sqrt(x), () => [positive([2, 3], 3)]],
  ['Rsqrt', (x) => tf.rsqrt(x), () => [positive([2, 3], 4)]],
  ['Exp', (x) => tf.exp(x), () => [randomTensor([2, 3], 5)]],
  ['Log', (x) => tf.log(x), () => [positive([2, 3], 6)]],
  ['Square', (x) => tf.square(x), () => [randomTensor([2, 3], 7)]],
  ['Reciprocal', (x) => tf.reciprocal(x), () => [positive([2, 3], 8)]],
  ['Sin', (x) => tf.sin(x), () => [randomTensor([2, 3], 9)]],
  ['Cos', (x) => tf.cos(x), () => [randomTensor([2, 3], 10)]],
  ['Tanh', (x) => tf.tanh(x), () => [randomTensor([2, 3], 11)]],
  ['Sigmoid', (x) => tf.sigmoid(x), () => [randomTensor([2, 3], 12)]],
  ['Softplus', (x) => tf.softplus(x), () => [randomTensor([2, 3], 13)]],
  ['Relu', (x) => tf.relu(x), () => [awayFromZero([2, 3], 14)]],
  ['Elu', (x) => tf.elu(x), () => [awayFromZero([2, 3], 15)]],
  ['Erf', (x) => tf.erf(x), () => [randomTensor([2, 3], 16)]],
  ['Identity', (x) => tf.clone(x), () => [randomTensor([2, 3], 17)]],
  ['LeakyRelu', (x) => tf.leakyRelu(x, 0.1), () => [awayFromZero([2, 3], 18)]],
  ['ClipByValue', (x) => tf.clipByValue(x, -0.5, 0.5), () => [spaced([3, 4])]],
  [
    'AddN',
    (a, b, c) => tf.addN([a, b, c] as tf.Tensor[]),
    () => [1, 2, 3].map((s) => randomTensor([2, 2], s)),
  ],
  ['Add (broadcast)', (a, b) => tf.add(a, b), () => [randomTensor([2, 3], 20), randomTensor([3], 21)]],
  ['Sub (broadcast)', (a, b) => tf.sub(a, b), () => [randomTensor([2, 1], 22), randomTensor([2, 3], 23)]],
  [
    'Multiply (broadcast)',
    (a, b) => tf.mul(a, b),
    () => [randomTensor([2, 3], 24), randomTensor([1, 3], 25)],
  ],
  ['RealDiv', (a, b) => tf.div(a, b), () => [randomTensor([2, 3], 26), positive([3], 27)]],
  ['Pow', (a, b) => tf.pow(a, b), () => [positive([2, 3], 28), randomTensor([2, 3], 29)]],
  ['Maximum', (a, b) => tf.maximum(a, b), () => [randomTensor([2, 3], 30), tf.fill([2, 3], 0.05)]],
  ['Minimum', (a, b) => tf.minimum(a, b), () => [randomTensor([2, 3], 31), tf.fill([2, 3], 0.05)]],
  ['Sum', (x) => tf.sum(x, [0, 2]), () => [randomTensor([2, 3, 2], 32)]],
  ['Mean', (x) => tf.mean(x, 1, true), () => [randomTensor([2, 3, 2], 33)]],
  ['Max', (x) => tf.max(x, -1), () => [spaced([3, 4])]],
  ['Min', (x) => tf.min(x, 0), () => [spaced([4, 3])]],
  ['Reshape', (x) => tf.reshape(x, [3, 2]), () => [randomTensor([2, 3], 36)]],
  ['Transpose', (x) => tf.transpose(x, [2, 0, 1]), () => [randomTensor([2, 3, 2], 37)]],
  [
    'Concat',
    (a, b) => tf.concat([a, b] as tf.Tensor[], 1),
    () => [randomTensor([2, 1], 38), randomTensor([2, 3], 39)],
  ],
  ['Slice', (x) => tf.slice(x, [1, 0], [1, -1]), () => [randomTensor([3, 4], 40)]],
  [
    'PadV2',
    (x) =>
      tf.pad(
        x,
        [
          [1, 0],
          [0, 2],
        ],
        0.5,
      ),
    () => [randomTensor([2, 2], 41)],
  ],
  ['Reverse', (x) => tf.reverse(x, [1]), () => [randomTensor([2, 3], 42)]],
  ['Tile', (x) => tf.tile(x, [2, 3]), () => [randomTensor([2, 2], 43)]],
  ['Select + Greater', (x) => tf.where(tf.greater(x, 0), x, tf.mul(x, 3)), () => [awayFromZero([2, 3], 44)]],
  [
    'GatherV2 (repeated indices)',
    (x) => tf.gather(x, tf.tensor1d([2, 0, 2, 1], 'int32'), 1),
    () => [randomTensor([2, 3, 2], 45)],
  ],
  ['BatchMatMul', (a, b) => tf.matMul(a, b), () => [randomTensor([2, 3, 4], 46), randomTensor([4, 2], 47)]],
  [
    'BatchMatMul ᵀA',
    (a, b) => tf.matMul(a, b, true, false),
    () => [randomTensor([4, 3], 48), randomTensor([2, 4, 2], 49)],
  ],
  [
    'BatchMatMul ᵀB',
    (a, b) => tf.matMul(a, b, false, true),
    () => [randomTensor([3, 4], 50), randomTensor([2, 4], 51)],
  ],
  [
    'BatchMatMul ᵀAᵀB',
    (a, b) => tf.matMul(a, b, true, true),
    () => [randomTensor([2, 4, 3], 52), randomTensor([2, 4], 53)],
  ],
  ['Softmax', (x) => tf.softmax(x), () => [randomTensor([2, 5], 54)]],
  [
    'Conv2D (stride 2, explicit pads)',
    (x, w) =>
      tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, [
        [0, 0],
        [1, 0],
        [0, 1],
        [0, 0],
      ]),
    () => [randomTensor([2, 5, 4, 3], 55), randomTensor([3, 2, 3, 2], 56)],
  ],
  [
    'Conv2D (same)',
    (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
    () => [randomTensor([1, 4, 4, 2], 57), randomTensor([3, 3, 2, 2], 58)],
  ],
];

describe.each(['cpu', 'wasm'] as const)('adapter gradients on the %s engine', (engine) => {
  beforeAll(async () => {
    await selectEngine({ engine });
  });

  it('registers a gradient for every kernel the adapter relies on', () => {
    for (const config of ADAPTER_GRADIENTS) expect(tf.getGradient(config.kernelName)).toBeDefined();
  });

  it.each(CASES)('%s matches central differences', (_name, f, makeInputs) => {
    const inputs = makeInputs();
    const result = checkGradients((...xs) => weightedSum(f(...xs)), inputs, 1e-2);
    expect(result.relativeError).toBeLessThan(2e-3);
    tf.dispose(inputs);
  });

  it('stops nothing when gradients are not requested: no tensors leak from a gradient call', () => {
    const x = randomTensor([2, 3], 61);
    const before = tf.memory().numTensors;
    const g = tf.grad((v: tf.Tensor) => weightedSum(tf.tanh(tf.matMul(v, v, false, true))))(x);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
