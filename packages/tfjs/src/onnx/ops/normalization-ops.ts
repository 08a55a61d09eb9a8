import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, UnsupportedOptionError } from '@noiserefine/core';
import { normAxis, type OpDefinition, required } from './op-types';

/** (x − mean) / sqrt(var + eps) over `axes`, with the mean and 1/std (keepdims) for callers that want them. */
function normalize(x: tf.Tensor, axes: number[], epsilon: number) {
  const mean = tf.mean(x, axes, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), axes, true);
  const invStd = tf.reciprocal(tf.sqrt(tf.add(variance, epsilon)));
  return { y: tf.mul(centered, invStd), mean, invStd };
}

/** Shapes a per-channel vector [C] to broadcast over NC… data. */
const perChannel = (v: tf.Tensor, rank: number): tf.Tensor =>
  tf.reshape(v, [1, -1, ...new Array<number>(Math.max(rank - 2, 0)).fill(1)]);

function affine(y: tf.Tensor, scale: tf.Tensor | undefined, bias: tf.Tensor | undefined): tf.Tensor {
  let out = y;
  if (scale) out = tf.mul(out, scale);
  if (bias) out = tf.add(out, bias);
  return out;
}

const spatialAxes = (rank: number): number[] => Array.from({ length: rank - 2 }, (_, i) => i + 2);

export const NORMALIZATION_OPS: Record<string, OpDefinition> = {
  InstanceNormalization: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const { y } = normalize(x, spatialAxes(x.rank), ctx.attrs.float('epsilon', 1e-5));
      return affine(
        y,
        perChannel(required(inputs, 1, ctx), x.rank),
        perChannel(required(inputs, 2, ctx), x.rank),
      );
    },
  },
  GroupNormalization: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const groups = ctx.attrs.int('num_groups', 0);
      const channels = x.shape[1] as number;
      if (groups <= 0 || channels % groups !== 0) {
        throw new InvalidArgumentError(
          `${ctx.where}: num_groups ${groups} must divide the ${channels} channels`,
        );
      }
      const n = x.shape[0] as number;
      const grouped = tf.reshape(x, [n, groups, -1]);
      const { y } = normalize(grouped, [2], ctx.attrs.float('epsilon', 1e-5));
      const back = tf.reshape(y, x.shape);
      // Opset 18 scales per group, opset 21 per channel; the length tells which.
      const expand = (v: tf.Tensor) =>
        v.size === channels
          ? v
          : tf.reshape(tf.tile(tf.reshape(v, [groups, 1]), [1, channels / groups]), [channels]);
      const scale = expand(required(inputs, 1, ctx));
      const bias = expand(required(inputs, 2, ctx));
      return affine(back, perChannel(scale, x.rank), perChannel(bias, x.rank));
    },
  },
  LayerNormalization: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const axis = normAxis(ctx.attrs.int('axis', -1), x.rank, ctx);
      const axes = Array.from({ length: x.rank - axis }, (_, i) => i + axis);
      const { y, mean, invStd } = normalize(x, axes, ctx.attrs.float('epsilon', 1e-5));
      return [affine(y, required(inputs, 1, ctx), inputs[2]), mean, invStd];
    },
  },
  BatchNormalization: {
    check: (ctx) => {
      if (ctx.attrs.int('training_mode', 0) !== 0) {
        throw new UnsupportedOptionError('BatchNormalization training_mode', 1, [0], { context: ctx.where });
      }
    },
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) =>
        perChannel(required(inputs, i, ctx), x.rank),
      ) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const invStd = tf.reciprocal(tf.sqrt(tf.add(variance, ctx.attrs.float('epsilon', 1e-5))));
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), invStd), scale), bias);
    },
  },
};
