import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, UnsupportedOptionError } from '@noiserefine/core';
import { normAxis, type OpContext, type OpDefinition, type OpInputs, required } from './op-types';

const MODES = ['nearest', 'linear'];
const COORDINATE_MODES = [
  'half_pixel',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_half_pixel_for_nn',
];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/** Output coordinate → input coordinate, per coordinate_transformation_mode. */
function sourceCoordinate(mode: string, o: number, scale: number, inSize: number, outSize: number): number {
  switch (mode) {
    case 'half_pixel':
      return (o + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return outSize === 1 ? 0 : (o * (inSize - 1)) / (outSize - 1);
    case 'tf_half_pixel_for_nn':
      return (o + 0.5) / scale;
    default:
      return o / scale;
  }
}

function nearestIndex(mode: string, x: number): number {
  switch (mode) {
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    case 'round_prefer_ceil':
      return Math.round(x);
    default:
      return x === Math.floor(x) + 0.5 ? Math.floor(x) : Math.round(x);
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** Resamples one axis by gathers (and a lerp for linear): exact ONNX coordinates, differentiable. */
function resizeAxis(
  x: tf.Tensor,
  axis: number,
  outSize: number,
  scale: number,
  attrs: ResizeAttributes,
): tf.Tensor {
  const inSize = x.shape[axis] as number;
  const coords = Array.from({ length: outSize }, (_, o) =>
    sourceCoordinate(attrs.coordinateMode, o, scale, inSize, outSize),
  );
  if (attrs.mode === 'nearest') {
    const idx = coords.map((c) => clamp(nearestIndex(attrs.nearestMode, c), 0, inSize - 1));
    return tf.gather(x, tf.tensor1d(idx, 'int32'), axis);
  }
  const clamped = coords.map((c) => clamp(c, 0, inSize - 1));
  const lo = clamped.map((c) => Math.floor(c));
  const hi = lo.map((i) => Math.min(i + 1, inSize - 1));
  const weightShape = x.shape.map((_, i) => (i === axis ? outSize : 1));
  const w = tf.tensor(
    clamped.map((c, i) => c - (lo[i] as number)),
    weightShape,
    'float32',
  );
  const a = tf.gather(x, tf.tensor1d(lo, 'int32'), axis);
  const b = tf.gather(x, tf.tensor1d(hi, 'int32'), axis);
  return tf.add(a, tf.mul(tf.sub(b, a), w));
}

interface ResizeAttributes {
  mode: string;
  coordinateMode: string;
  nearestMode: string;
}

function checkResize(ctx: Pick<OpContext, 'attrs' | 'opset' | 'where'>): void {
  const context = { context: ctx.where };
  const mode = ctx.attrs.string('mode', 'nearest');
  if (!MODES.includes(mode)) throw new UnsupportedOptionError('Resize mode', mode, MODES, context);
  const coordinate = ctx.attrs.string('coordinate_transformation_mode', 'half_pixel');
  if (!COORDINATE_MODES.includes(coordinate)) {
    throw new UnsupportedOptionError('coordinate_transformation_mode', coordinate, COORDINATE_MODES, context);
  }
  const nearest = ctx.attrs.string('nearest_mode', 'round_prefer_floor');
  if (!NEAREST_MODES.includes(nearest))
    throw new UnsupportedOptionError('nearest_mode', nearest, NEAREST_MODES, context);
  for (const flag of ['antialias', 'exclude_outside']) {
    if (ctx.attrs.int(flag, 0) !== 0) throw new UnsupportedOptionError(flag, 1, [0], context);
  }
  const policy = ctx.attrs.string('keep_aspect_ratio_policy', 'stretch');
  if (policy !== 'stretch')
    throw new UnsupportedOptionError('keep_aspect_ratio_policy', policy, ['stretch'], context);
}

function resize(
  x: tf.Tensor,
  scales: number[] | undefined,
  sizes: number[] | undefined,
  axes: number[],
  attrs: ResizeAttributes,
  ctx: OpContext,
): tf.Tensor {
  let y = x;
  axes.forEach((axis, i) => {
    const inSize = x.shape[axis] as number;
    let outSize: number;
    let scale: number;
    if (sizes && sizes.length > 0) {
      outSize = sizes[i] as number;
      scale = outSize / inSize;
    } else if (scales && scales.length > 0) {
      scale = scales[i] as number;
      outSize = Math.floor(inSize * scale);
    } else {
      throw new InvalidArgumentError(`${ctx.where}: Resize needs scales or sizes`);
    }
    if (outSize === inSize && scale === 1) return;
    y = resizeAxis(y, axis, outSize, scale, attrs);
  });
  return y === x ? tf.clone(x) : y;
}

function optionalValues(inputs: OpInputs, i: number, read: (t: tf.Tensor) => number[]): number[] | undefined {
  const t = inputs[i];
  return t && t.size > 0 ? read(t) : undefined;
}

export const RESIZE_OPS: Record<string, OpDefinition> = {
  Resize: {
    check: checkResize,
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const attrs: ResizeAttributes = {
        mode: ctx.attrs.string('mode', 'nearest'),
        // Opset 10 had no attribute and behaved as asymmetric.
        coordinateMode:
          ctx.opset < 11 ? 'asymmetric' : ctx.attrs.string('coordinate_transformation_mode', 'half_pixel'),
        nearestMode: ctx.opset < 11 ? 'floor' : ctx.attrs.string('nearest_mode', 'round_prefer_floor'),
      };
      const scalesAt = ctx.opset < 11 ? 1 : 2;
      const scales = optionalValues(inputs, scalesAt, (t) => ctx.floats(t));
      const sizes = ctx.opset < 11 ? undefined : optionalValues(inputs, 3, (t) => ctx.ints(t));
      const axes = ctx.attrs.ints('axes')?.map((a) => normAxis(a, x.rank, ctx)) ?? x.shape.map((_, i) => i);
      return resize(x, scales, sizes, axes, attrs, ctx);
    },
  },
  Upsample: {
    check: checkResize,
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const mode = ctx.attrs.string('mode', 'nearest');
      const scales = ctx.attrs.floats('scales') ?? ctx.floats(required(inputs, 1, ctx));
      const attrs = { mode, coordinateMode: 'asymmetric', nearestMode: 'floor' };
      return resize(
        x,
        scales,
        undefined,
        x.shape.map((_, i) => i),
        attrs,
        ctx,
      );
    },
  },
};
