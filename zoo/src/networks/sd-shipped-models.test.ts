import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decodeModel } from '@noiserefine/onnx';
import { OnnxGraph, selectEngine } from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { SD_FAMILY_NAMES, sdFamily, TEXT_LENGTH } from './sd-families';

const modelDir = (name: string) => fileURLToPath(new URL(`../../models/tiny-${name}`, import.meta.url));

/** Deterministic pseudo-random values in [−1, 1). */
function values(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

beforeAll(async () => {
  await selectEngine({ engine: 'cpu' });
});

// The shipped folders are produced by scripts/train-sd.ts and committed; a missing one fails.
describe.each(SD_FAMILY_NAMES.map((name) => ({ name })))('shipped tiny-$name', ({ name }) => {
  const dir = modelDir(name);
  it('gives the same UNet output on tfjs and onnxruntime (within 1e-4)', async () => {
    const family = sdFamily(name);
    const { unet } = family;
    const bytes = new Uint8Array(await readFile(`${dir}/unet/model.onnx`));
    const session = await ort.InferenceSession.create(bytes);
    const batch = 2;
    const s = unet.sampleSize;
    const feeds: Record<string, ort.Tensor> = {
      sample: new ort.Tensor(
        'float32',
        values(batch * 4 * s * s, 1).map((v) => 2 * v),
        [batch, 4, s, s],
      ),
      encoder_hidden_states: new ort.Tensor(
        'float32',
        values(batch * TEXT_LENGTH * unet.crossAttentionDim, 2),
        [batch, TEXT_LENGTH, unet.crossAttentionDim],
      ),
      timestep:
        unet.timestepInput.dtype === 'int64'
          ? new ort.Tensor('int64', BigInt64Array.of(901n, 301n), [batch])
          : new ort.Tensor('float32', Float32Array.of(601), []),
    };
    if (unet.addition) {
      const p = unet.addition.textEmbedDim;
      feeds.text_embeds = new ort.Tensor('float32', values(batch * p, 3), [batch, p]);
      feeds.time_ids = new ort.Tensor(
        'float32',
        Float32Array.of(16, 16, 0, 0, 16, 16, 16, 16, 0, 0, 16, 16),
        [batch, 6],
      );
    }
    const expected = (await session.run(feeds)).out_sample as ort.Tensor;
    const graph = new OnnxGraph(decodeModel(bytes));
    const tfFeeds = Object.fromEntries(
      Object.entries(feeds).map(([key, t]) => [
        key,
        t.type === 'int64'
          ? tf.tensor(Int32Array.from(t.data as BigInt64Array, Number), t.dims as number[], 'int32')
          : tf.tensor(t.data as Float32Array, t.dims as number[], 'float32'),
      ]),
    );
    const actual = (await (
      graph.execute(tfFeeds, ['out_sample']).out_sample as tf.Tensor
    ).data()) as Float32Array;
    const want = expected.data as Float32Array;
    // A trained network predicts something: not the zero output of the initialisation.
    expect(Math.max(...Array.from(want, Math.abs))).toBeGreaterThan(0.05);
    let worst = 0;
    want.forEach((v, i) => {
      worst = Math.max(worst, Math.abs((actual[i] as number) - v));
    });
    expect(worst).toBeLessThan(1e-4);
    graph.dispose();
  });
});
