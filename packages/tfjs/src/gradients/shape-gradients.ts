import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig } from '@tensorflow/tfjs-core';
import { activeBackendHasKernel } from '../engine/kernels';
import { axesOf, floatZerosLike, inversePermutation, keptShape } from './gradient-utils';

function asList(v: unknown, rank: number, fill: number): number[] {
  if (Array.isArray(v)) return [...(v as number[]), ...new Array<number>(rank - v.length).fill(fill)];
  return [v as number, ...new Array<number>(rank - 1).fill(fill)];
}

/**
 * A reduced gradient broadcast back over the reduced axes. A broadcasting product with ones
 * rather than broadcastTo: the wasm engine runs broadcastTo as Tile, many times slower.
 */
function spreadTo(kept: tf.Tensor, shape: readonly number[]): tf.Tensor {
  return tf.mul(kept, tf.ones([...shape], kept.dtype));
}

export const reductionGradients: GradConfig[] = [
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const axes = axesOf(attrs.axis, x.rank);
      return { x: () => spreadTo(tf.reshape(dy as tf.Tensor, keptShape(x.shape, axes)), x.shape) };
    },
  },
  {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const axes = axesOf(attrs.axis, x.rank);
      const count = axes.reduce((n, a) => n * (x.shape[a] as number), 1);
      const kept = tf.reshape(tf.div(dy as tf.Tensor, count), keptShape(x.shape, axes));
      return { x: () => spreadTo(kept, x.shape) };
    },
  },
  ...(['Max', 'Min'] as const).map(
    (kernelName): GradConfig => ({
      kernelName,
      inputsToSave: ['x'],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [x, y] = saved as [tf.Tensor, tf.Tensor];
        const axes = axesOf(kernelName === 'Max' ? attrs.reductionIndices : attrs.axis, x.rank);
        const shape = keptShape(x.shape, axes);
        // Every element equal to the extreme receives the gradient, as in tfjs and TensorFlow.
        const mask = tf.cast(tf.equal(x, tf.reshape(y, shape)), 'float32');
        return { x: () => tf.mul(mask, tf.reshape(dy as tf.Tensor, shape)) };
      },
    }),
  ),
];

export const shapeGradients: GradConfig[] = [
  {
    kernelName: 'Reshape',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => ({ x: () => tf.reshape(dy as tf.Tensor, (saved[0] as tf.Tensor).shape) }),
  },
  {
    kernelName: 'Transpose',
    gradFunc: (dy, _saved, attrs) => ({
      x: () => tf.transpose(dy as tf.Tensor, inversePermutation(attrs.perm as number[])),
    }),
  },
  {
    kernelName: 'Concat',
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const g = dy as tf.Tensor;
      const axis = axesOf(attrs.axis, g.rank)[0] as number;
      const grads: Record<string, () => tf.Tensor> = {};
      let offset = 0;
      saved.forEach((input, i) => {
        const begin = g.shape.map((_, d) => (d === axis ? offset : 0));
        const size = [...input.shape];
        grads[String(i)] = () => tf.slice(g, begin, size);
        offset += input.shape[axis] as number;
      });
      return grads;
    },
  },
  {
    kernelName: 'Slice',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const begin = asList(attrs.begin, x.rank, 0);
      const size = asList(attrs.size, x.rank, -1).map((s, i) =>
        s === -1 ? (x.shape[i] as number) - (begin[i] as number) : s,
      );
      const paddings = x.shape.map(
        (d, i) => [begin[i] as number, d - (begin[i] as number) - (size[i] as number)] as [number, number],
      );
      return { x: () => tf.pad(dy as tf.Tensor, paddings) };
    },
  },
  {
    kernelName: 'PadV2',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const begin = (attrs.paddings as [number, number][]).map((p) => p[0]);
      return { x: () => tf.slice(dy as tf.Tensor, begin, x.shape) };
    },
  },
  {
    kernelName: 'Reverse',
    gradFunc: (dy, _saved, attrs) => ({ x: () => tf.reverse(dy as tf.Tensor, attrs.dims as number[]) }),
  },
  {
    kernelName: 'Tile',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const reps = attrs.reps as number[];
      // View dy as [r0, d0, r1, d1, …] and sum the repetition axes.
      const split = x.shape.flatMap((d, i) => [reps[i] as number, d]);
      const repAxes = x.shape.map((_, i) => 2 * i);
      return { x: () => tf.reshape(tf.sum(tf.reshape(dy as tf.Tensor, split), repAxes), x.shape) };
    },
  },
  {
    kernelName: 'Select',
    inputsToSave: ['condition'],
    gradFunc: (dy, saved) => {
      const [condition] = saved as [tf.Tensor];
      const g = dy as tf.Tensor;
      return {
        condition: () => floatZerosLike(condition),
        t: () => tf.where(condition, g, tf.zerosLike(g)),
        e: () => tf.where(condition, tf.zerosLike(g), g),
      };
    },
  },
  {
    kernelName: 'GatherV2',
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy, saved, attrs) => {
      const [x, indices] = saved as [tf.Tensor, tf.Tensor];
      const axis = axesOf(attrs.axis, x.rank)[0] as number;
      return {
        x: () => scatterAddAlongAxis(dy as tf.Tensor, indices, x.shape, axis),
        indices: () => floatZerosLike(indices),
      };
    },
  },
];

/** [count, dim] with a 1 at each index (built from a comparison: the wasm OneHot kernel ignores dtype). */
function oneHotRows(indices: tf.Tensor1D, dim: number): tf.Tensor {
  const hits = tf.equal(tf.reshape(indices, [-1, 1]), tf.reshape(tf.range(0, dim, 1, 'int32'), [1, dim]));
  return tf.cast(hits, 'float32');
}

/**
 * The gradient of a gather: rows of dy summed into the positions they were taken from.
 * Uses UnsortedSegmentSum where the engine has it (the wasm engine does not: there a
 * one-hot matrix product does the same sum).
 */
function scatterAddAlongAxis(
  dy: tf.Tensor,
  indices: tf.Tensor,
  xShape: readonly number[],
  axis: number,
): tf.Tensor {
  const outer = xShape.slice(0, axis);
  const inner = xShape.slice(axis + 1);
  const dim = xShape[axis] as number;
  const count = indices.size;
  // dy: [outer…, indices…, inner…] → [count, outer·inner]
  const outerSize = outer.reduce((a, b) => a * b, 1);
  const innerSize = inner.reduce((a, b) => a * b, 1);
  const grouped = tf.reshape(dy, [outerSize, count, innerSize]);
  const rows = tf.reshape(tf.transpose(grouped, [1, 0, 2]), [count, outerSize * innerSize]);
  const flatIndices = tf.reshape(tf.cast(indices, 'int32'), [count]) as tf.Tensor1D;
  const summed = activeBackendHasKernel('UnsortedSegmentSum')
    ? tf.unsortedSegmentSum(rows, flatIndices, dim)
    : tf.matMul(oneHotRows(flatIndices, dim), rows, true, false);
  const back = tf.transpose(tf.reshape(summed, [dim, outerSize, innerSize]), [1, 0, 2]);
  return tf.reshape(back, [...xShape]);
}
