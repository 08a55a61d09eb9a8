import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedOptionError } from '@noiserefine/core';
import { normAxis, type OpContext, type OpDefinition, type OpInputs, required } from './op-types';

type Reducer = (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor;

/** The reduced axes: an attribute before `inputSince`, the optional second input from then on. */
function reductionAxes(inputs: OpInputs, ctx: OpContext, inputSince: number, rank: number): number[] | null {
  const given =
    ctx.opset >= inputSince ? (inputs[1] ? ctx.ints(inputs[1]) : undefined) : ctx.attrs.ints('axes');
  if (given && given.length > 0) return given.map((a) => normAxis(a, rank, ctx));
  if (ctx.attrs.int('noop_with_empty_axes', 0) === 1) return null;
  return Array.from({ length: rank }, (_, i) => i);
}

function reduction(f: Reducer, inputSince = 18): OpDefinition {
  return {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const axes = reductionAxes(inputs, ctx, inputSince, x.rank);
      if (axes === null || x.rank === 0) return tf.clone(x);
      const y = f(x, axes, ctx.attrs.int('keepdims', 1) === 1);
      return y.dtype === x.dtype ? y : tf.cast(y, x.dtype);
    },
  };
}

function argReduction(f: (x: tf.Tensor, axis: number) => tf.Tensor): OpDefinition {
  return {
    check: (ctx) => {
      if (ctx.attrs.int('select_last_index', 0) !== 0) {
        throw new UnsupportedOptionError('select_last_index', 1, [0], { context: ctx.where });
      }
    },
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const axis = normAxis(ctx.attrs.int('axis', 0), x.rank, ctx);
      const y = f(x, axis);
      return ctx.attrs.int('keepdims', 1) === 1 ? tf.expandDims(y, axis) : y;
    },
  };
}

const spatial = (x: tf.Tensor) => Array.from({ length: x.rank - 2 }, (_, i) => i + 2);

export const REDUCTION_OPS: Record<string, OpDefinition> = {
  ReduceSum: reduction((x, a, k) => tf.sum(x, a, k), 13),
  ReduceMean: reduction((x, a, k) => tf.mean(x, a, k)),
  ReduceMax: reduction((x, a, k) => tf.max(x, a, k)),
  ReduceMin: reduction((x, a, k) => tf.min(x, a, k)),
  ReduceProd: reduction((x, a, k) => tf.prod(x, a, k)),
  ReduceSumSquare: reduction((x, a, k) => tf.sum(tf.square(x), a, k)),
  ReduceL1: reduction((x, a, k) => tf.sum(tf.abs(x), a, k)),
  ReduceL2: reduction((x, a, k) => tf.sqrt(tf.sum(tf.square(x), a, k))),
  ArgMax: argReduction((x, axis) => tf.argMax(x, axis)),
  ArgMin: argReduction((x, axis) => tf.argMin(x, axis)),
  GlobalAveragePool: {
    run: (inputs, ctx) => tf.mean(required(inputs, 0, ctx), spatial(required(inputs, 0, ctx)), true),
  },
  GlobalMaxPool: {
    run: (inputs, ctx) => tf.max(required(inputs, 0, ctx), spatial(required(inputs, 0, ctx)), true),
  },
};
