import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, UnsupportedOptionError } from '@noiserefine/core';
import type { NodeAttributes } from '../attributes';
import { subsample } from '../../tensor/subsample';
import { matMul } from './linear-algebra-ops';
import { type OpContext, type OpDefinition, required } from './op-types';

/** How convolutions run: tfjs conv kernels where they apply, or patches + matrix products everywhere. */
export type ConvolutionMode = 'auto' | 'patches';

type Pair = [number, number];

interface Conv2dParams {
  strides: Pair;
  dilations: Pair;
  /** [[top, bottom], [left, right]] */
  pads: [Pair, Pair];
  group: number;
}

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

function checkConvAttributes(ctx: Pick<OpContext, 'attrs' | 'where'>): void {
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  if (!AUTO_PADS.includes(autoPad)) {
    throw new UnsupportedOptionError('auto_pad', autoPad, AUTO_PADS, { context: ctx.where });
  }
  const kernel = ctx.attrs.ints('kernel_shape');
  if (kernel && kernel.length > 2) {
    throw new UnsupportedOptionError('convolution rank', `${kernel.length}-D`, ['1-D', '2-D'], {
      context: ctx.where,
    });
  }
}

/** Lifts a 1-D convolution's attribute list to 2-D (a unit height axis in front). */
const lift = (values: number[], rank1: boolean, fill: number): number[] =>
  rank1 ? [fill, ...values] : values;

function spatialPads(
  attrs: NodeAttributes,
  inSize: Pair,
  kernel: Pair,
  strides: Pair,
  dilations: Pair,
  rank1: boolean,
): [Pair, Pair] {
  const autoPad = attrs.string('auto_pad', 'NOTSET');
  if (autoPad === 'VALID')
    return [
      [0, 0],
      [0, 0],
    ];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const side = (i: 0 | 1): Pair => {
      const out = Math.ceil(inSize[i] / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - inSize[i]);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    };
    return [side(0), side(1)];
  }
  const pads = attrs.ints('pads');
  if (!pads)
    return [
      [0, 0],
      [0, 0],
    ];
  const p = rank1 ? [0, pads[0] as number, 0, pads[1] as number] : pads;
  return [
    [p[0] as number, p[2] as number],
    [p[1] as number, p[3] as number],
  ];
}

/** Every tap of the kernel as one strided view: [N, C, kH·kW, outH, outW]. Built from differentiable ops. */
function patches(x: tf.Tensor4D, kernel: Pair, out: Pair, strides: Pair, dilations: Pair): tf.Tensor {
  const [n, c] = x.shape;
  const taps: tf.Tensor[] = [];
  for (let kh = 0; kh < kernel[0]; kh++) {
    for (let kw = 0; kw < kernel[1]; kw++) {
      const spanH = (out[0] - 1) * strides[0] + 1;
      const spanW = (out[1] - 1) * strides[1] + 1;
      let tap: tf.Tensor = tf.slice(x, [0, 0, kh * dilations[0], kw * dilations[1]], [n, c, spanH, spanW]);
      tap = subsample(tap, 2, strides[0], out[0]);
      tap = subsample(tap, 3, strides[1], out[1]);
      taps.push(tf.reshape(tap, [n, c, 1, out[0], out[1]]));
    }
  }
  return taps.length === 1 ? (taps[0] as tf.Tensor) : tf.concat(taps, 2);
}

/** 2-D convolution on NCHW input and [M, C/group, kH, kW] weights. */
export function conv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  params: Conv2dParams,
  mode: ConvolutionMode,
  where: string,
): tf.Tensor4D {
  const { strides, dilations, pads, group } = params;
  const [n, c, h, wd] = x.shape;
  const [m, cPerGroup, kH, kW] = w.shape;
  if (c !== cPerGroup * group || m % group !== 0) {
    throw new InvalidArgumentError(
      `${where}: input has ${c} channels and weights [${w.shape.join(', ')}] with group ${group}; expected ${cPerGroup * group} input channels and ${group} | ${m}`,
    );
  }
  const outH = Math.floor((h + pads[0][0] + pads[0][1] - (dilations[0] * (kH - 1) + 1)) / strides[0]) + 1;
  const outW = Math.floor((wd + pads[1][0] + pads[1][1] - (dilations[1] * (kW - 1) + 1)) / strides[1]) + 1;
  if (outH <= 0 || outW <= 0) {
    throw new InvalidArgumentError(`${where}: input [${x.shape.join(', ')}] is smaller than the kernel`);
  }
  const anyPad = pads.some(([a, b]) => a !== 0 || b !== 0);
  const padded = (anyPad ? tf.pad(x, [[0, 0], [0, 0], pads[0], pads[1]]) : x) as tf.Tensor4D;
  const native = mode === 'auto' && group === 1 && dilations[0] === 1 && dilations[1] === 1;
  if (native) {
    const nhwc = tf.transpose(padded, [0, 2, 3, 1]) as tf.Tensor4D;
    const filter = tf.transpose(w, [2, 3, 1, 0]) as tf.Tensor4D;
    return tf.transpose(tf.conv2d(nhwc, filter, strides, 'valid'), [0, 3, 1, 2]) as tf.Tensor4D;
  }
  const k = cPerGroup * kH * kW;
  // [N, C, kH·kW, oH, oW] → [N, g, (C/g)·kH·kW, oH·oW]: rows ordered (c, kh, kw) like the weights.
  const cols = tf.reshape(patches(padded, [kH, kW], [outH, outW], strides, dilations), [
    n,
    group,
    k,
    outH * outW,
  ]);
  const kernels = tf.reshape(w, [1, group, m / group, k]);
  return tf.reshape(matMul(kernels, cols), [n, m, outH, outW]) as tf.Tensor4D;
}

function addBias(y: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
  if (!bias) return y;
  return tf.add(y, tf.reshape(bias, [1, -1, ...new Array<number>(y.rank - 2).fill(1)]));
}

function convParams(
  ctx: OpContext,
  x: tf.Tensor,
  rank1: boolean,
): { strides: Pair; dilations: Pair; group: number } {
  const strides = lift(ctx.attrs.ints('strides', rank1 ? [1] : [1, 1]), rank1, 1) as Pair;
  const dilations = lift(ctx.attrs.ints('dilations', rank1 ? [1] : [1, 1]), rank1, 1) as Pair;
  if (x.rank !== 3 && x.rank !== 4) {
    throw new UnsupportedOptionError('convolution input rank', x.rank, [3, 4], { context: ctx.where });
  }
  return { strides, dilations, group: ctx.attrs.int('group', 1) };
}

/** Conv as an operator, with the executor's convolution mode. */
export function convOp(mode: ConvolutionMode): OpDefinition {
  return {
    check: checkConvAttributes,
    run: (inputs, ctx) => {
      const x0 = required(inputs, 0, ctx);
      const w0 = required(inputs, 1, ctx);
      const rank1 = x0.rank === 3;
      const x = (rank1 ? tf.expandDims(x0, 2) : x0) as tf.Tensor4D;
      const w = (rank1 ? tf.expandDims(w0, 2) : w0) as tf.Tensor4D;
      const kernel: Pair = [w.shape[2], w.shape[3]];
      const { strides, dilations, group } = convParams(ctx, x0, rank1);
      const pads = spatialPads(ctx.attrs, [x.shape[2], x.shape[3]], kernel, strides, dilations, rank1);
      const y = addBias(conv2d(x, w, { strides, dilations, pads, group }, mode, ctx.where), inputs[2]);
      return rank1 ? tf.squeeze(y, [2]) : y;
    },
  };
}

/** Inserts stride−1 zeros between elements along H and W (the "fractional stride" of a transposed conv). */
function dilateInput(x: tf.Tensor4D, strides: Pair): tf.Tensor4D {
  if (strides[0] === 1 && strides[1] === 1) return x;
  const [n, c, h, w] = x.shape;
  const spread = tf.pad(tf.reshape(x, [n, c, h, 1, w, 1]), [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, strides[0] - 1],
    [0, 0],
    [0, strides[1] - 1],
  ]);
  const full = tf.reshape(spread, [n, c, h * strides[0], w * strides[1]]);
  return tf.slice(
    full,
    [0, 0, 0, 0],
    [n, c, (h - 1) * strides[0] + 1, (w - 1) * strides[1] + 1],
  ) as tf.Tensor4D;
}

/** Pads (or crops, for negative amounts) the two spatial axes. */
function padOrCrop(x: tf.Tensor4D, pads: [Pair, Pair]): tf.Tensor4D {
  const grow = pads.map(([a, b]) => [Math.max(a, 0), Math.max(b, 0)] as Pair);
  let y = grow.some(([a, b]) => a > 0 || b > 0)
    ? tf.pad(x, [[0, 0], [0, 0], grow[0] as Pair, grow[1] as Pair])
    : x;
  const cut = pads.map(([a, b]) => [Math.max(-a, 0), Math.max(-b, 0)] as Pair);
  if (cut.some(([a, b]) => a > 0 || b > 0)) {
    const [n, c, h, w] = y.shape;
    const [[t, bt], [l, r]] = cut as [Pair, Pair];
    y = tf.slice(y, [0, 0, t, l], [n, c, h - t - bt, w - l - r]);
  }
  return y as tf.Tensor4D;
}

/**
 * ConvTranspose as a stride-1 convolution of the zero-dilated input with the flipped,
 * transposed kernel: one code path for groups, dilations, pads and output_padding,
 * differentiable wherever Conv is.
 */
export function convTransposeOp(mode: ConvolutionMode): OpDefinition {
  return {
    check: checkConvAttributes,
    run: (inputs, ctx) => {
      const x0 = required(inputs, 0, ctx);
      const w0 = required(inputs, 1, ctx);
      const rank1 = x0.rank === 3;
      const x = (rank1 ? tf.expandDims(x0, 2) : x0) as tf.Tensor4D;
      const w = (rank1 ? tf.expandDims(w0, 2) : w0) as tf.Tensor4D;
      const [cIn, mPerGroup, kH, kW] = w.shape;
      const kernel: Pair = [kH, kW];
      const { strides, dilations, group } = convParams(ctx, x0, rank1);
      const outputPadding = lift(ctx.attrs.ints('output_padding', rank1 ? [0] : [0, 0]), rank1, 0) as Pair;
      const inSize: Pair = [x.shape[2], x.shape[3]];
      const full = (i: 0 | 1) =>
        strides[i] * (inSize[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1;
      let pads: [Pair, Pair];
      const outputShape = ctx.attrs.ints('output_shape');
      const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
      if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
        const target = outputShape
          ? (lift(outputShape.slice(-(rank1 ? 1 : 2)), rank1, 1) as Pair)
          : ([inSize[0] * strides[0], inSize[1] * strides[1]] as Pair);
        const side = (i: 0 | 1): Pair => {
          const total = full(i) - target[i];
          const half = Math.floor(total / 2);
          return autoPad === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
        };
        pads = [side(0), side(1)];
      } else {
        pads = spatialPads(ctx.attrs, inSize, kernel, strides, dilations, rank1);
      }
      const spread = dilateInput(x, strides);
      const edge = (i: 0 | 1, p: Pair): Pair => [
        (kernel[i] - 1) * dilations[i] - p[0],
        (kernel[i] - 1) * dilations[i] - p[1] + outputPadding[i],
      ];
      const framed = padOrCrop(spread, [edge(0, pads[0]), edge(1, pads[1])]);
      // [C, M/g, kH, kW] → [M, C/g, kH, kW], flipped in space.
      const cPerGroup = cIn / group;
      const regrouped = tf.transpose(tf.reshape(w, [group, cPerGroup, mPerGroup, kH, kW]), [0, 2, 1, 3, 4]);
      const flipped = tf.reverse(
        tf.reshape(regrouped, [group * mPerGroup, cPerGroup, kH, kW]),
        [2, 3],
      ) as tf.Tensor4D;
      const zero: [Pair, Pair] = [
        [0, 0],
        [0, 0],
      ];
      const y = conv2d(framed, flipped, { strides: [1, 1], dilations, pads: zero, group }, mode, ctx.where);
      const biased = addBias(y, inputs[2]);
      return rank1 ? tf.squeeze(biased, [2]) : biased;
    },
  };
}
