import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig } from '@tensorflow/tfjs-core';
import { floatZerosLike, sumToShape } from './gradient-utils';

const f32 = (x: tf.Tensor): tf.Tensor => (x.dtype === 'float32' ? x : tf.cast(x, 'float32'));

type Unary = (dy: tf.Tensor, x: tf.Tensor, y: tf.Tensor) => tf.Tensor;

/** A gradient for a one-input kernel `y = f(x)`; saves x and y. */
function unary(kernelName: string, grad: Unary): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [x, y] = saved as [tf.Tensor, tf.Tensor];
      return { x: () => grad(dy as tf.Tensor, f32(x), y) };
    },
  };
}

/** Kernels whose outputs are piecewise constant (or not real-valued): the gradient is zero. */
function zeroGradient(kernelName: string, inputs: readonly string[]): GradConfig {
  return {
    kernelName,
    inputsToSave: [...inputs],
    gradFunc: (_dy, saved) =>
      Object.fromEntries(inputs.map((name, i) => [name, () => floatZerosLike(saved[i] as tf.Tensor)])),
  };
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

export const unaryGradients: GradConfig[] = [
  unary('Neg', (dy) => tf.neg(dy)),
  unary('Abs', (dy, x) => tf.mul(dy, tf.sign(x))),
  unary('Sqrt', (dy, _x, y) => tf.div(dy, tf.mul(y, 2))),
  unary('Rsqrt', (dy, _x, y) => tf.mul(dy, tf.mul(tf.pow(y, 3), -0.5))),
  unary('Exp', (dy, _x, y) => tf.mul(dy, y)),
  unary('Log', (dy, x) => tf.div(dy, x)),
  unary('Square', (dy, x) => tf.mul(dy, tf.mul(x, 2))),
  unary('Reciprocal', (dy, x) => tf.neg(tf.div(dy, tf.square(x)))),
  unary('Sin', (dy, x) => tf.mul(dy, tf.cos(x))),
  unary('Cos', (dy, x) => tf.neg(tf.mul(dy, tf.sin(x)))),
  unary('Tanh', (dy, _x, y) => tf.mul(dy, tf.sub(1, tf.square(y)))),
  unary('Sigmoid', (dy, _x, y) => tf.mul(dy, tf.mul(y, tf.sub(1, y)))),
  unary('Softplus', (dy, x) => tf.mul(dy, tf.sigmoid(x))),
  unary('Relu', (dy, x) => tf.where(tf.greater(x, 0), dy, tf.zerosLike(dy))),
  unary('Elu', (dy, x, y) => tf.where(tf.greater(x, 0), dy, tf.mul(dy, tf.add(y, 1)))),
  unary('Erf', (dy, x) => tf.mul(dy, tf.mul(tf.exp(tf.neg(tf.square(x))), TWO_OVER_SQRT_PI))),
  unary('Identity', (dy) => tf.clone(dy)),
  {
    kernelName: 'LeakyRelu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const alpha = attrs.alpha as number;
      return { x: () => tf.where(tf.greater(x, 0), dy as tf.Tensor, tf.mul(dy as tf.Tensor, alpha)) };
    },
  },
  {
    kernelName: 'ClipByValue',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const inside = tf.logicalAnd(
        tf.greaterEqual(x, attrs.clipValueMin as number),
        tf.lessEqual(x, attrs.clipValueMax as number),
      );
      return { x: () => tf.where(inside, dy as tf.Tensor, tf.zerosLike(dy as tf.Tensor)) };
    },
  },
  // A cast passes the gradient through unchanged (float ↔ float); integer results carry none.
  { kernelName: 'Cast', gradFunc: (dy) => ({ x: () => tf.clone(dy as tf.Tensor) }) },
  {
    kernelName: 'AddN',
    saveAllInputs: true,
    gradFunc: (dy, saved) =>
      Object.fromEntries(saved.map((_, i) => [String(i), () => tf.clone(dy as tf.Tensor)])),
  },
  ...['Sign', 'Floor', 'Ceil', 'Round', 'LogicalNot', 'IsNan', 'IsInf'].map((k) => zeroGradient(k, ['x'])),
];

type Side = (dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor, y: tf.Tensor) => tf.Tensor;

/** A gradient for a broadcasting two-input kernel; each side is summed back to its shape. */
function binary(kernelName: string, gradA: Side, gradB: Side): GradConfig {
  return {
    kernelName,
    inputsToSave: ['a', 'b'],
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [a, b, y] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      return {
        a: () => sumToShape(gradA(dy as tf.Tensor, f32(a), f32(b), y), a.shape),
        b: () => sumToShape(gradB(dy as tf.Tensor, f32(a), f32(b), y), b.shape),
      };
    },
  };
}

export const binaryGradients: GradConfig[] = [
  binary(
    'Add',
    (dy) => dy,
    (dy) => dy,
  ),
  binary(
    'Sub',
    (dy) => dy,
    (dy) => tf.neg(dy),
  ),
  binary(
    'Multiply',
    (dy, _a, b) => tf.mul(dy, b),
    (dy, a) => tf.mul(dy, a),
  ),
  binary(
    'RealDiv',
    (dy, _a, b) => tf.div(dy, b),
    (dy, a, b) => tf.neg(tf.div(tf.mul(dy, a), tf.square(b))),
  ),
  // d/da aᵇ = b·aᵇ⁻¹; d/db aᵇ = aᵇ·ln a, taken as 0 where a ≤ 0 (where ln is undefined).
  binary(
    'Pow',
    (dy, a, b) => tf.mul(dy, tf.mul(b, tf.pow(a, tf.sub(b, 1)))),
    (dy, a, _b, y) => tf.mul(dy, tf.mul(y, tf.where(tf.greater(a, 0), tf.log(a), tf.zerosLike(a)))),
  ),
  binary(
    'Maximum',
    (dy, a, b) => tf.mul(dy, tf.cast(tf.greaterEqual(a, b), 'float32')),
    (dy, a, b) => tf.mul(dy, tf.cast(tf.less(a, b), 'float32')),
  ),
  binary(
    'Minimum',
    (dy, a, b) => tf.mul(dy, tf.cast(tf.lessEqual(a, b), 'float32')),
    (dy, a, b) => tf.mul(dy, tf.cast(tf.greater(a, b), 'float32')),
  ),
  ...[
    'Greater',
    'GreaterEqual',
    'Less',
    'LessEqual',
    'Equal',
    'NotEqual',
    'LogicalAnd',
    'LogicalOr',
    'FloorDiv',
    'Mod',
  ].map((k) => zeroGradient(k, ['a', 'b'])),
];
