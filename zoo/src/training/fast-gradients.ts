import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig } from '@tensorflow/tfjs-core';

/**
 * Gradients for three kernels, written around two slow paths of tfjs' wasm engine (measured
 * on a [1024, 64]·[1024, 128] product: a transposed operand 8× slower than transposing first;
 * broadcastTo through Tile 20× slower than a broadcasting add). The math is the usual one;
 * only the kernels it runs on change. Registering replaces the adapter's gradients for these
 * kernels in this process, so every engine computes the same derivatives, faster on wasm.
 */

/** Swaps the last two axes. */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}

/** A broadcast gradient summed back to its operand's shape. */
function sumToShape(dy: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (dy.rank === shape.length && dy.shape.every((d, i) => d === shape[i])) return dy;
  const lead = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && dy.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, [...shape]);
}

/** `small` (with unit axes where the reduction was) expanded to `shape` by a broadcasting add. */
function expandTo(small: tf.Tensor, shape: readonly number[]): tf.Tensor {
  return tf.add(small, tf.zeros([...shape], small.dtype));
}

function reducedAxes(axis: unknown, rank: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? (axis as number[]) : [axis as number];
  return list.map((a) => (a < 0 ? a + rank : a));
}

const keptShape = (shape: readonly number[], axes: readonly number[]) => shape.map((d, i) => (axes.includes(i) ? 1 : d));

export const FAST_TRAINING_GRADIENTS: readonly GradConfig[] = [
  {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      const transposeA = attrs.transposeA as boolean;
      const transposeB = attrs.transposeB as boolean;
      // y = A·B with A, B the operands as multiplied; dA = dy·Bᵀ, dB = Aᵀ·dy.
      const opA = () => (transposeA ? swapLast(a) : a);
      const opB = () => (transposeB ? swapLast(b) : b);
      return {
        a: () => {
          const dA = tf.matMul(g, swapLast(opB()));
          return sumToShape(transposeA ? swapLast(dA) : dA, a.shape);
        },
        b: () => {
          const dB = tf.matMul(swapLast(opA()), g);
          return sumToShape(transposeB ? swapLast(dB) : dB, b.shape);
        },
      };
    },
  },
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const axes = reducedAxes(attrs.axis, x.rank);
      return { x: () => expandTo(tf.reshape(dy as tf.Tensor, keptShape(x.shape, axes)), x.shape) };
    },
  },
  {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const axes = reducedAxes(attrs.axis, x.rank);
      const count = axes.reduce((n, a) => n * (x.shape[a] as number), 1);
      return {
        x: () => expandTo(tf.reshape(tf.div(dy as tf.Tensor, count), keptShape(x.shape, axes)), x.shape),
      };
    },
  },
];

/** Registers the gradients above (idempotent; call after the tfjs engine is selected). */
export function registerFastTrainingGradients(): void {
  for (const config of FAST_TRAINING_GRADIENTS) {
    if (tf.getGradient(config.kernelName) !== config) tf.registerGradient(config);
  }
}
