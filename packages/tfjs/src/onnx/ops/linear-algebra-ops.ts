import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@noiserefine/core';
import { einsum, parseEinsum } from '../einsum';
import { type OpDefinition, required } from './op-types';

/**
 * Batched product of [..., M, K] and [..., K, N] with numpy batch broadcasting. tfjs's own
 * batch broadcasting gives wrong results when both sides broadcast, so batches are made
 * explicit (broadcastTo is differentiable) and the product runs on rank-3 tensors.
 */
function batchedMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.rank - 1] as number;
  if (b.rank === 2) {
    // [..., M, K]·[K, N]: fold the batch into the rows.
    return tf.reshape(tf.matMul(tf.reshape(a, [-1, k]), b), [...a.shape.slice(0, -1), n]);
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const batch = Array.from({ length: rank }, (_, i) => {
    const da = batchA[batchA.length - rank + i] ?? 1;
    const db = batchB[batchB.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new InvalidArgumentError(
        `MatMul: batch shapes [${batchA.join(', ')}] and [${batchB.join(', ')}] do not broadcast`,
      );
    }
    return Math.max(da, db);
  });
  const size = batch.reduce((p, d) => p * d, 1);
  const expand = (t: tf.Tensor, rows: number, cols: number) => {
    const full = [...batch, rows, cols];
    const same = t.rank === full.length && t.shape.every((d, i) => d === full[i]);
    return tf.reshape(same ? t : tf.broadcastTo(t, full), [size, rows, cols]);
  };
  return tf.reshape(tf.matMul(expand(a, m, k), expand(b, k, n)), [...batch, m, n]);
}

/** numpy matmul: 1-D operands gain and then lose a unit axis; batch axes broadcast. */
export function matMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const a2 = a.rank === 1 ? tf.reshape(a, [1, -1]) : a;
  const b2 = b.rank === 1 ? tf.reshape(b, [-1, 1]) : b;
  const y = batchedMatMul(a2, b2);
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
