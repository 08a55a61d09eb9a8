import * as tf from '@tensorflow/tfjs-core';
import { einsum, parseEinsum } from '../einsum';
import { type OpDefinition, required } from './op-types';

/** numpy matmul: 1-D operands gain and then lose a unit axis; batch axes broadcast. */
export function matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const a2 = a.rank === 1 ? tf.reshape(a, [1, -1]) : a;
  const b2 = b.rank === 1 ? tf.reshape(b, [-1, 1]) : b;
  const y = tf.matMul(a2, b2);
  if (a.rank > 1 && b.rank > 1) return y;
  const shape = y.shape.slice(0, -2);
  if (a.rank > 1) shape.push(y.shape[y.rank - 2] as number);
  if (b.rank > 1) shape.push(y.shape[y.rank - 1] as number);
  return tf.reshape(y, shape);
}

export const LINEAR_ALGEBRA_OPS: Record<string, OpDefinition> = {
  MatMul: { run: (inputs, ctx) => matMul(required(inputs, 0, ctx), required(inputs, 1, ctx)) },
  Gemm: {
    run: (inputs, ctx) => {
      const a = required(inputs, 0, ctx);
      const b = required(inputs, 1, ctx);
      const c = inputs[2];
      const alpha = ctx.attrs.float('alpha', 1);
      const beta = ctx.attrs.float('beta', 1);
      let y = tf.matMul(a, b, ctx.attrs.int('transA', 0) === 1, ctx.attrs.int('transB', 0) === 1);
      if (alpha !== 1) y = tf.mul(y, alpha);
      if (c && beta !== 0) y = tf.add(y, beta === 1 ? c : tf.mul(c, beta));
      return y;
    },
  },
  Einsum: {
    check: (ctx) => {
      parseEinsum(ctx.attrs.string('equation', ''));
    },
    run: (inputs, ctx) => {
      const equation = ctx.attrs.string('equation', '');
      const xs = inputs.map((_, i) => required(inputs, i, ctx));
      return einsum(parseEinsum(equation), xs, equation);
    },
  },
};
