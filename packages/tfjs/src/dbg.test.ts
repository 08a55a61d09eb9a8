import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { selectEngine } from './engine/engine-selection';
import { checkGradients, randomTensor } from './test-support/gradient-check';
it('dbg', async () => {
  for (const engine of ['cpu', 'wasm'] as const) {
    await selectEngine({ engine });
    const g = randomTensor([2, 3, 2], 45);
    console.log(engine, 'gather grad', JSON.stringify(tf.grad((v: tf.Tensor) => tf.sum(tf.gather(v, tf.tensor1d([2, 0, 2, 1], 'int32'), 1)))(g).arraySync()));
    const r = tf.tensor4d([1,2,3,4,5,6,7,8,9],[1, 3, 3, 1]);
    console.log('resize grad', JSON.stringify(tf.grad((v: tf.Tensor) => tf.sum(tf.image.resizeBilinear(v as tf.Tensor4D, [5, 6], false, true)))(r).arraySync()));
    console.log('resize fwd', JSON.stringify(tf.image.resizeBilinear(r, [5, 6], false, true).arraySync()));
    console.log(checkGradients((v) => tf.sum(tf.image.resizeBilinear(v as tf.Tensor4D, [5, 6], false, true)) as tf.Scalar, [r]));
  }
});
