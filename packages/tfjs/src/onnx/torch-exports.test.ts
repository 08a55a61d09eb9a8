import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { decodeModel } from '@noiserefine/onnx';
import { describe, expect, it } from 'vitest';
import { selectEngine } from '../engine/engine-selection';
import { pseudoRandom } from '../test-support/gradient-check';
import { type ReferenceFeed, runReference } from '../test-support/reference-runtime';
import { OnnxGraph } from './graph-executor';

/** Feeds for the models of fixtures/make_torch_models.py (torch.onnx.export, opsets 14 and 17). */
const FEEDS: Record<string, Record<string, ReferenceFeed>> = {
  unet: {
    sample: { type: 'float32', data: pseudoRandom(512, 1), dims: [2, 4, 8, 8] },
    timestep: { type: 'int64', data: BigInt64Array.of(10n, 500n), dims: [2] },
    encoder_hidden_states: { type: 'float32', data: pseudoRandom(48, 2), dims: [2, 3, 8] },
  },
  clip: {
    input_ids: {
      type: 'int64',
      data: BigInt64Array.from([1, 5, 9, 49, 0, 0, 0, 3, 4, 49, 0, 0, 0, 0], BigInt),
      dims: [2, 7],
    },
  },
  dit: {
    x: { type: 'float32', data: pseudoRandom(512, 3), dims: [2, 4, 8, 8] },
    t: { type: 'float32', data: Float32Array.of(0.3, 0.7), dims: [2] },
    y: { type: 'int64', data: BigInt64Array.of(1n, 10n), dims: [2] },
  },
};

const MODELS = Object.keys(FEEDS).flatMap((family) => [14, 17].map((opset) => `${family}-opset${opset}`));

const toTf = (f: ReferenceFeed): tf.Tensor =>
  f.type === 'int64'
    ? tf.tensor(Int32Array.from(f.data, Number), f.dims, 'int32')
    : tf.tensor(f.data as Float32Array, f.dims, 'float32');

async function readModel(name: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(new URL(`../../fixtures/${name}.onnx`, import.meta.url)));
}

// The pure-JS cpu engine is slow; it gets the opset-17 exports only.
describe.each([
  ['wasm', MODELS],
  ['cpu', MODELS.filter((m) => m.endsWith('17'))],
] as const)('torch-exported models on the %s engine', (engine, models) => {
  it.each(models)('%s matches onnxruntime and trains every initializer', async (name) => {
    await selectEngine({ engine });
    const bytes = await readModel(name);
    const feeds = FEEDS[name.split('-')[0] as string] as Record<string, ReferenceFeed>;
    const reference = await runReference(bytes, feeds);
    const graph = new OnnxGraph(decodeModel(bytes), { trainable: true });
    const tfFeeds = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, toTf(f)]));
    const outputs = graph.execute(tfFeeds);
    for (const [output, want] of Object.entries(reference)) {
      const got = outputs[output] as tf.Tensor;
      expect(got.shape, `${name} ${output} shape`).toEqual(want.dims);
      const values = got.dataSync();
      const worst = want.data.reduce((m, v, i) => Math.max(m, Math.abs(v - (values[i] as number))), 0);
      expect(worst, `${name} ${output}: max |tfjs − onnxruntime|`).toBeLessThan(2e-6);
    }
    const variables = [...graph.variables.values()];
    const first = graph.outputs[0]?.name as string;
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(graph.execute(tfFeeds, [first])[first] as tf.Tensor)) as tf.Scalar,
      variables,
    );
    const withGradient = variables.filter((v) =>
      tf.tidy(
        () =>
          grads[v.name] !== undefined &&
          tf.any(tf.notEqual(grads[v.name] as tf.Tensor, 0)).dataSync()[0] === 1,
      ),
    );
    expect(withGradient.length, `${name}: variables with a non-zero gradient`).toBe(variables.length);
    tf.dispose([value, ...Object.values(grads), ...Object.values(outputs), ...Object.values(tfFeeds)]);
    graph.dispose();
  });
});
