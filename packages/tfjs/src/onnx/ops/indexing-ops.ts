import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, UnsupportedOptionError } from '@noiserefine/core';
import type { NodeAttributes } from '../attributes';
import { decodeTensorProto, type HostArray } from '../tensor-proto';
import { normAxis, type OpDefinition, required } from './op-types';

/** Indices may be negative in ONNX; tfjs gathers only from non-negative ones. */
function wrapNegative(indices: tf.Tensor, dim: number): tf.Tensor {
  const idx = indices.dtype === 'int32' ? indices : tf.cast(indices, 'int32');
  return tf.where(tf.less(idx, 0), tf.add(idx, tf.scalar(dim, 'int32')), idx);
}

export function hostToTensor(h: HostArray): tf.Tensor {
  if (h.dtype === 'bool') return tf.tensor(Uint8Array.from(h.values), h.shape, 'bool');
  return tf.tensor(h.values, h.shape, h.dtype);
}

/** The value of a Constant node, from whichever value_* attribute it carries. */
export function constantValue(attrs: NodeAttributes, where: string): HostArray {
  const t = attrs.tensor('value');
  if (t) return decodeTensorProto(t);
  const f = attrs.float('value_float');
  if (f !== undefined) return { dtype: 'float32', shape: [], values: Float32Array.of(f) };
  const fs = attrs.floats('value_floats');
  if (fs) return { dtype: 'float32', shape: [fs.length], values: Float32Array.from(fs) };
  const i = attrs.int('value_int');
  if (i !== undefined) return { dtype: 'int32', shape: [], values: Int32Array.of(i) };
  const is = attrs.ints('value_ints');
  if (is) return { dtype: 'int32', shape: [is.length], values: Int32Array.from(is) };
  throw new UnsupportedOptionError(
    'Constant attribute',
    attrs.node.attribute[0]?.name ?? '(none)',
    ['value', 'value_float', 'value_floats', 'value_int', 'value_ints'],
    { context: where },
  );
}

export const INDEXING_OPS: Record<string, OpDefinition> = {
  Gather: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const axis = normAxis(ctx.attrs.int('axis', 0), x.rank, ctx);
      return tf.gather(x, wrapNegative(required(inputs, 1, ctx), x.shape[axis] as number), axis);
    },
  },
  GatherND: {
    check: (ctx) => {
      if (ctx.attrs.int('batch_dims', 0) !== 0) {
        throw new UnsupportedOptionError('GatherND batch_dims', ctx.attrs.int('batch_dims'), [0], {
          context: ctx.where,
        });
      }
    },
    run: (inputs, ctx) => tf.gatherND(required(inputs, 0, ctx), required(inputs, 1, ctx)),
  },
  ScatterND: {
    check: (ctx) => {
      const reduction = ctx.attrs.string('reduction', 'none');
      if (reduction !== 'none') {
        throw new UnsupportedOptionError('ScatterND reduction', reduction, ['none'], { context: ctx.where });
      }
    },
    run: (inputs, ctx) => {
      const data = required(inputs, 0, ctx);
      const indices = required(inputs, 1, ctx);
      const updates = required(inputs, 2, ctx);
      const hit = tf.scatterND(indices, tf.ones(updates.shape, 'int32'), data.shape);
      const written = tf.scatterND(indices, updates, data.shape);
      return tf.where(tf.greater(hit, 0), written, data);
    },
  },
  Trilu: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const k = inputs[1] ? (ctx.ints(inputs[1])[0] as number) : 0;
      const upper = ctx.attrs.int('upper', 1) === 1;
      const rows = x.shape[x.rank - 2] as number;
      const cols = x.shape[x.rank - 1] as number;
      const keep = new Uint8Array(rows * cols);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) keep[i * cols + j] = (upper ? j - i >= k : j - i <= k) ? 1 : 0;
      }
      return tf.where(tf.tensor(keep, [rows, cols], 'bool'), x, tf.zerosLike(x));
    },
  },
  Range: {
    run: (inputs, ctx) => {
      const start = required(inputs, 0, ctx);
      const dtype = start.dtype === 'int32' ? 'int32' : 'float32';
      const [s, l, d] = [0, 1, 2].map((i) => ctx.floats(required(inputs, i, ctx))[0] as number) as [
        number,
        number,
        number,
      ];
      if (d === 0) throw new InvalidArgumentError(`${ctx.where}: Range delta must not be 0`);
      const count = Math.max(Math.ceil((l - s) / d), 0);
      // start + i·delta on the host: tf.range recomputes the count and can be off by one in float.
      return tf.tensor1d(
        Array.from({ length: count }, (_, i) => s + i * d),
        dtype,
      );
    },
  },
  ConstantOfShape: {
    run: (inputs, ctx) => {
      const shape = ctx.ints(required(inputs, 0, ctx));
      const t = ctx.attrs.tensor('value');
      const value = t ? decodeTensorProto(t) : { dtype: 'float32' as const, values: Float32Array.of(0) };
      return tf.fill(shape, value.values[0] as number, value.dtype === 'bool' ? 'bool' : value.dtype);
    },
  },
  Constant: {
    check: (ctx) => {
      constantValue(ctx.attrs, ctx.where);
    },
    run: (_inputs, ctx) => hostToTensor(constantValue(ctx.attrs, ctx.where)),
  },
  CumSum: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const axis = normAxis(ctx.ints(required(inputs, 1, ctx))[0] as number, x.rank, ctx);
      return tf.cumsum(x, axis, ctx.attrs.int('exclusive', 0) === 1, ctx.attrs.int('reverse', 0) === 1);
    },
  },
};
