import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedOptionError } from '@noiserefine/core';
import { tfDTypeOf } from '../tensor-proto';
import { normAxis, type OpContext, type OpDefinition, type OpInputs, required } from './op-types';

const unary = (f: (x: tf.Tensor, ctx: OpContext) => tf.Tensor): OpDefinition => ({
  run: (inputs, ctx) => f(required(inputs, 0, ctx), ctx),
});

const binary = (f: (a: tf.Tensor, b: tf.Tensor, ctx: OpContext) => tf.Tensor): OpDefinition => ({
  run: (inputs, ctx) => f(required(inputs, 0, ctx), required(inputs, 1, ctx), ctx),
});

/** Sum, Mean, Max, Min: any number of broadcasting inputs. */
const variadic = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, mean = false): OpDefinition => ({
  run: (inputs, ctx) => {
    const xs = inputs.filter((x): x is tf.Tensor => x !== undefined);
    if (xs.length === 0) required(inputs, 0, ctx);
    let acc = xs[0] as tf.Tensor;
    for (const x of xs.slice(1)) acc = f(acc, x);
    if (xs.length === 1) acc = tf.clone(acc);
    return mean ? tf.div(acc, xs.length) : acc;
  },
});

/** ONNX integer division truncates toward zero; tfjs floors. */
function divide(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.dtype !== 'int32') return tf.div(a, b);
  const sign = tf.mul(tf.sign(a), tf.sign(b));
  return tf.mul(tf.floorDiv(tf.abs(a), tf.abs(b)), sign);
}

const truncate = (x: tf.Tensor): tf.Tensor => tf.mul(tf.sign(x), tf.floor(tf.abs(x)));

function power(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.dtype === 'float32') return tf.pow(a, b.dtype === 'float32' ? b : tf.cast(b, 'float32'));
  return tf.cast(tf.round(tf.pow(tf.cast(a, 'float32'), tf.cast(b, 'float32'))), a.dtype);
}

const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function gelu(x: tf.Tensor, approximate: string): tf.Tensor {
  if (approximate === 'tanh') {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), SQRT_2_OVER_PI);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  }
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, SQRT_HALF)), 1));
}

/** Softmax family: opset < 13 flattens to 2-D at `axis` (default 1); later opsets work on one axis (default -1). */
function softmaxLike(log: boolean): OpDefinition {
  return {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const f = (t: tf.Tensor) => (log ? tf.logSoftmax(t) : tf.softmax(t));
      if (ctx.opset < 13) {
        const axis = normAxis(ctx.attrs.int('axis', 1), x.rank, ctx);
        const rows = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
        return tf.reshape(f(tf.reshape(x, [rows, -1])), x.shape);
      }
      const axis = normAxis(ctx.attrs.int('axis', -1), x.rank, ctx);
      if (axis === x.rank - 1) return f(x);
      const perm = x.shape.map((_, i) => i);
      perm[axis] = x.rank - 1;
      perm[x.rank - 1] = axis;
      return tf.transpose(f(tf.transpose(x, perm)), perm);
    },
  };
}

function scalarInput(inputs: OpInputs, i: number, ctx: OpContext): number | undefined {
  const t = inputs[i];
  return t === undefined ? undefined : (ctx.floats(t)[0] as number);
}

export const ELEMENTWISE_OPS: Record<string, OpDefinition> = {
  Add: binary((a, b) => tf.add(a, b)),
  Sub: binary((a, b) => tf.sub(a, b)),
  Mul: binary((a, b) => tf.mul(a, b)),
  Div: binary(divide),
  Pow: binary(power),
  Mod: binary((a, b, ctx) => {
    if (ctx.attrs.int('fmod', 0) !== 1) return tf.mod(a, b);
    // C fmod: the remainder of the quotient truncated toward zero.
    const quotient = a.dtype === 'int32' ? divide(a, b) : truncate(tf.div(a, b));
    return tf.sub(a, tf.mul(quotient, b));
  }),
  Sqrt: unary((x) => tf.sqrt(x)),
  Exp: unary((x) => tf.exp(x)),
  Log: unary((x) => tf.log(x)),
  Neg: unary((x) => tf.neg(x)),
  Abs: unary((x) => tf.abs(x)),
  Sign: unary((x) => tf.sign(x)),
  Floor: unary((x) => tf.floor(x)),
  Ceil: unary((x) => tf.ceil(x)),
  Round: unary((x) => tf.round(x)),
  Reciprocal: unary((x) => tf.reciprocal(x)),
  Tanh: unary((x) => tf.tanh(x)),
  Sigmoid: unary((x) => tf.sigmoid(x)),
  Sin: unary((x) => tf.sin(x)),
  Cos: unary((x) => tf.cos(x)),
  Erf: unary((x) => tf.erf(x)),
  Relu: unary((x) => tf.relu(x)),
  LeakyRelu: unary((x, ctx) => tf.leakyRelu(x, ctx.attrs.float('alpha', 0.01))),
  Elu: unary((x, ctx) => {
    const alpha = ctx.attrs.float('alpha', 1);
    return alpha === 1 ? tf.elu(x) : tf.where(tf.greater(x, 0), x, tf.mul(tf.sub(tf.exp(x), 1), alpha));
  }),
  Softplus: unary((x) => tf.softplus(x)),
  HardSigmoid: unary((x, ctx) =>
    tf.clipByValue(tf.add(tf.mul(x, ctx.attrs.float('alpha', 0.2)), ctx.attrs.float('beta', 0.5)), 0, 1),
  ),
  Gelu: {
    check: (ctx) => {
      const approximate = ctx.attrs.string('approximate', 'none');
      if (approximate !== 'none' && approximate !== 'tanh') {
        throw new UnsupportedOptionError('Gelu approximate', approximate, ['none', 'tanh'], {
          context: ctx.where,
        });
      }
    },
    run: (inputs, ctx) => gelu(required(inputs, 0, ctx), ctx.attrs.string('approximate', 'none')),
  },
  Softmax: softmaxLike(false),
  LogSoftmax: softmaxLike(true),
  Sum: variadic((a, b) => tf.add(a, b)),
  Mean: variadic((a, b) => tf.add(a, b), true),
  Max: variadic((a, b) => tf.maximum(a, b)),
  Min: variadic((a, b) => tf.minimum(a, b)),
  Clip: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const lo = ctx.opset < 11 ? ctx.attrs.float('min') : scalarInput(inputs, 1, ctx);
      const hi = ctx.opset < 11 ? ctx.attrs.float('max') : scalarInput(inputs, 2, ctx);
      let y = x;
      if (lo !== undefined) y = tf.maximum(y, tf.scalar(lo, x.dtype));
      if (hi !== undefined) y = tf.minimum(y, tf.scalar(hi, x.dtype));
      return y === x ? tf.clone(x) : y;
    },
  },
  Equal: binary((a, b) => tf.equal(a, b)),
  Less: binary((a, b) => tf.less(a, b)),
  LessOrEqual: binary((a, b) => tf.lessEqual(a, b)),
  Greater: binary((a, b) => tf.greater(a, b)),
  GreaterOrEqual: binary((a, b) => tf.greaterEqual(a, b)),
  Not: unary((x) => tf.logicalNot(x)),
  And: binary((a, b) => tf.logicalAnd(a, b)),
  Or: binary((a, b) => tf.logicalOr(a, b)),
  Xor: binary((a, b) => tf.logicalXor(a, b)),
  IsNaN: unary((x) => tf.isNaN(x)),
  Where: {
    run: (inputs, ctx) =>
      tf.where(required(inputs, 0, ctx), required(inputs, 1, ctx), required(inputs, 2, ctx)),
  },
  Cast: {
    check: (ctx) => {
      tfDTypeOf(ctx.attrs.int('to', 0), ctx.where);
    },
    run: (inputs, ctx) => castTo(required(inputs, 0, ctx), tfDTypeOf(ctx.attrs.int('to', 0), ctx.where)),
  },
  CastLike: binary((x, like) => castTo(x, like.dtype as 'float32' | 'int32' | 'bool')),
  Identity: unary((x) => tf.clone(x)),
  Dropout: {
    // Inference: the identity, and an all-true mask when asked for.
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      return [tf.clone(x), tf.ones(x.shape, 'bool')];
    },
  },
};

/** tfjs casts float → int by truncation, like ONNX; → bool by comparison (the wasm Cast keeps raw bytes). */
function castTo(x: tf.Tensor, dtype: 'float32' | 'int32' | 'bool'): tf.Tensor {
  if (x.dtype === dtype) return tf.clone(x);
  if (dtype === 'bool') return tf.notEqual(x, tf.scalar(0, x.dtype));
  return tf.cast(x, dtype);
}
