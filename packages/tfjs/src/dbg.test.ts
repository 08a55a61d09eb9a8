import * as tf from '@tensorflow/tfjs-core';
import { decodeModel } from '@noiserefine/onnx';
import { it } from 'vitest';
import { selectEngine } from './engine/engine-selection';
import { OnnxGraph } from './onnx/graph-executor';
import { buildModel } from './test-support/onnx-model';
import { pseudoRandom } from './test-support/gradient-check';
import { weights } from './test-support/parity';
it('dbg', async () => {
  for (const engine of ['wasm', 'cpu'] as const) {
    await selectEngine({ engine });
    const g = new OnnxGraph(decodeModel(buildModel({ inputs: [{ name: 'x', type: 'float32', shape: [2, 8] }], outputs: [{ name: 'y', type: 'float32' }],
      initializers: [{ name: 'w', ...weights([8, 8], 1) }],
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }] })), { trainable: true });
    const x = tf.tensor(pseudoRandom(16, 1), [2, 8]);
    for (let k = 0; k < 2; k++) {
      let t0 = performance.now();
      for (let i = 0; i < 200; i++) tf.dispose(g.execute({ x }));
      const t1 = performance.now();
      for (let i = 0; i < 200; i++) tf.tidy(() => tf.matMul(x, g.variables.get('w')!));
      const t2 = performance.now();
      for (let i = 0; i < 200; i++) tf.tidy(() => tf.add(x, 1).dataSync());
      const t3 = performance.now();
      console.log(engine, 'execute', (t1 - t0) / 200, 'ms; raw matmul', (t2 - t1) / 200, 'ms; add+dataSync', (t3-t2)/200);
    }
  }
});
