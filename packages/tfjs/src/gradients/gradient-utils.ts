import * as tf from '@tensorflow/tfjs-core';

/** Sums a broadcast gradient back down to the shape of the operand it came from. */
export function sumToShape(dy: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (dy.shape.length === shape.length && dy.shape.every((d, i) => d === shape[i])) return dy;
  const lead = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && dy.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length > 0 ? tf.sum(dy, axes) : dy;
  return tf.reshape(summed, [...shape]);
}

/** Normalises an axis attribute (number or list, possibly negative) against a rank. */
export function axesOf(axis: unknown, rank: number): number[] {
  const list = axis === undefined || axis === null ? [] : Array.isArray(axis) ? axis : [axis];
  if (list.length === 0 && (axis === undefined || axis === null)) {
    return Array.from({ length: rank }, (_, i) => i);
  }
  return (list as number[]).map((a) => (a < 0 ? a + rank : a));
}

/** The shape a reduction over `axes` keeps when keepDims is set. */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

export const floatZerosLike = (x: tf.Tensor): tf.Tensor => tf.zeros(x.shape, 'float32');
