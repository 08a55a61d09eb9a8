import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import { activeBackendHasKernel } from '../engine/kernels';
import { subsample } from '../tensor/subsample';
import { sumToShape } from './gradient-utils';

type Pair = [number, number];

const pair = (v: unknown): Pair => (Array.isArray(v) ? [v[0], v[1]] : [v as number, v as number]);

/** x with its last two axes swapped. */
function swapLastAxes(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}

/** [[top, bottom], [left, right]] padding of an NHWC conv2d, for every tfjs pad form. */
export function conv2dPadding(
  pad: unknown,
  inShape: readonly number[],
  filterShape: readonly number[],
  strides: Pair,
  dilations: Pair,
): [Pair, Pair] {
  if (pad === 'valid')
    return [
      [0, 0],
      [0, 0],
    ];
  if (typeof pad === 'number')
    return [
      [pad, pad],
      [pad, pad],
    ];
  if (Array.isArray(pad)) {
    const [, h, w] = pad as [Pair, Pair, Pair, Pair];
    return [h, w];
  }
  // 'same': TensorFlow's rule, the odd pixel goes to the bottom/right.
  const side = (dim: number) => {
    const effective = ((filterShape[dim - 1] as number) - 1) * (dilations[dim - 1] as number) + 1;
    const inSize = inShape[dim] as number;
    const stride = strides[dim - 1] as number;
    const total = Math.max(0, (Math.ceil(inSize / stride) - 1) * stride + effective - inSize);
    return [Math.floor(total / 2), total - Math.floor(total / 2)] as Pair;
  };
  return [side(1), side(2)];
}

/**
 * dL/dfilter of an NHWC conv2d as one matrix product per filter tap: the patches of x that
 * tap saw, against dy. Used where the engine has no Conv2DBackpropFilter kernel (wasm).
 */
export function conv2dFilterGradientByPatches(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: readonly [number, number, number, number],
  attrs: NamedAttrMap,
): tf.Tensor {
  const strides = pair(attrs.strides);
  const dilations = pair(attrs.dilations ?? 1);
  const [kH, kW, channels, outChannels] = filterShape;
  const [n, outH, outW] = dy.shape;
  const [ph, pw] = conv2dPadding(attrs.pad, x.shape, filterShape, strides, dilations);
  const padded = tf.pad(x, [[0, 0], ph, pw, [0, 0]]);
  const rows = n * outH * outW;
  const dyRows = tf.reshape(dy, [rows, outChannels]);
  const taps: tf.Tensor[] = [];
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      const top = kh * dilations[0];
      const left = kw * dilations[1];
      let patch: tf.Tensor = tf.slice(
        padded,
        [0, top, left, 0],
        [n, (outH - 1) * strides[0] + 1, (outW - 1) * strides[1] + 1, channels],
      );
      // Pad + reshape + slice: far faster than stridedSlice on the cpu engine.
      patch = subsample(subsample(patch, 1, strides[0], outH), 2, strides[1], outW);
      taps.push(tf.matMul(tf.reshape(patch, [rows, channels]), dyRows, true, false));
    }
  }
  return tf.reshape(tf.stack(taps), [kH, kW, channels, outChannels]);
}

/**
 * The Conv2DBackpropFilter kernel where it is worth using: wasm has none, and the pure-JS
 * cpu kernel is an order of magnitude slower than the patch products.
 */
function useFilterKernel(): boolean {
  return tf.getBackend() !== 'cpu' && activeBackendHasKernel('Conv2DBackpropFilter');
}

export const nnGradients: GradConfig[] = [
  {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      const tA = attrs.transposeA as boolean;
      const tB = attrs.transposeB as boolean;
      // Transposes are explicit: the wasm engine runs products with transpose flags on a
      // slow path (about 10× slower than a plain product of the transposed copy).
      const A = tA ? swapLastAxes(a) : a;
      const B = tB ? swapLastAxes(b) : b;
      const da = () => {
        const d = tf.matMul(g, swapLastAxes(B));
        return tA ? swapLastAxes(d) : d;
      };
      const db = () => {
        const d = tf.matMul(swapLastAxes(A), g);
        return tB ? swapLastAxes(d) : d;
      };
      return { a: () => sumToShape(da(), a.shape), b: () => sumToShape(db(), b.shape) };
    },
  },
  {
    kernelName: 'Softmax',
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved as [tf.Tensor];
      const g = dy as tf.Tensor;
      const dim = attrs.dim as number;
      return { logits: () => tf.mul(y, tf.sub(g, tf.sum(tf.mul(g, y), dim, true))) };
    },
  },
  {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const g = dy as tf.Tensor4D;
      const dilations = pair(attrs.dilations ?? 1);
      if (dilations[0] !== 1 || dilations[1] !== 1) {
        throw new Error(
          `the gradient of a dilated conv2d is not available on tfjs kernels (dilations [${dilations.join(', ')}]); express the convolution as patches and a matrix product instead`,
        );
      }
      if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
        throw new Error(`conv2d gradient: expected dataFormat NHWC, got ${String(attrs.dataFormat)}`);
      }
      const common = {
        strides: attrs.strides,
        pad: attrs.pad,
        dataFormat: 'NHWC',
        dimRoundingMode: attrs.dimRoundingMode,
      } as NamedAttrMap;
      return {
        x: () =>
          tf.engine().runKernel(
            'Conv2DBackpropInput',
            { dy: g, filter },
            {
              ...common,
              inputShape: x.shape,
            },
          ) as tf.Tensor,
        filter: () =>
          useFilterKernel()
            ? (tf.engine().runKernel(
                'Conv2DBackpropFilter',
                { x, dy: g },
                {
                  ...common,
                  filterShape: filter.shape,
                },
              ) as tf.Tensor)
            : conv2dFilterGradientByPatches(x, g, filter.shape, attrs),
      };
    },
  },
];
