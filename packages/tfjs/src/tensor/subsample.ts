import * as tf from '@tensorflow/tfjs-core';

type Pair = [number, number];

/** Every `stride`-th element along `axis` (length (count−1)·stride+1 → count), via pad + reshape + slice. */
export function subsample(x: tf.Tensor, axis: number, stride: number, count: number): tf.Tensor {
  if (stride === 1) return x;
  const pad = x.shape.map((_, i): Pair => (i === axis ? [0, stride - 1] : [0, 0]));
  const padded = tf.pad(x, pad);
  const split = [...x.shape.slice(0, axis), count, stride, ...x.shape.slice(axis + 1)];
  const begin = split.map(() => 0);
  const size = split.map((d, i) => (i === axis + 1 ? 1 : d));
  const picked = tf.slice(tf.reshape(padded, split), begin, size);
  return tf.reshape(picked, [...x.shape.slice(0, axis), count, ...x.shape.slice(axis + 1)]);
}
