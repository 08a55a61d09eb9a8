import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ModelLoadError } from '@noiserefine/core';
import { encodeModel, onnx } from '@noiserefine/onnx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tfjsBackend } from '../backend';

/** y = x + w, with w stored in "weights.bin" at offset 8. */
function modelWithExternalWeights(): { model: Uint8Array; weights: Uint8Array } {
  const weights = new Uint8Array(8 + 12);
  new Float32Array(weights.buffer, 8, 3).set([10, 20, 30]);
  const w = onnx.TensorProto.create({
    name: 'w',
    dataType: onnx.TensorProto.DataType.FLOAT,
    dims: [3],
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: 'weights.bin' },
      { key: 'offset', value: '8' },
      { key: 'length', value: '12' },
    ],
  });
  const vi = (name: string) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 3 }] } } },
    });
  const model = encodeModel(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'external',
        input: [vi('x')],
        output: [vi('y')],
        initializer: [w],
        node: [{ name: 'add', opType: 'Add', input: ['x', 'w'], output: ['y'] }],
      },
    }),
  );
  return { model, weights };
}

let dir: string;
const files = modelWithExternalWeights();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfjs-external-'));
  await writeFile(join(dir, 'model.onnx'), files.model);
  await writeFile(join(dir, 'weights.bin'), files.weights);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model sources with external data', () => {
  const runOnce = async (source: Parameters<Awaited<ReturnType<typeof tfjsBackend>>['loadModel']>[0]) => {
    const backend = await tfjsBackend({ engine: 'wasm' });
    const model = await backend.loadModel(source);
    const x = tf.tensor([1, 2, 3]);
    const { y } = model.graph.execute({ x });
    const values = Array.from((y as tf.Tensor).dataSync());
    tf.dispose([x, y as tf.Tensor]);
    await backend.dispose();
    return values;
  };

  it('reads weights next to a model loaded from its path', async () => {
    expect(await runOnce(join(dir, 'model.onnx'))).toEqual([11, 22, 33]);
  });

  it('reads weights given as bytes or as a path', async () => {
    expect(
      await runOnce({ model: files.model, externalData: [{ path: 'weights.bin', data: files.weights }] }),
    ).toEqual([11, 22, 33]);
    expect(
      await runOnce({
        model: files.model,
        externalData: [{ path: 'weights.bin', data: join(dir, 'weights.bin') }],
      }),
    ).toEqual([11, 22, 33]);
  });

  it('explains what is missing when bytes come without their weights file', async () => {
    const backend = await tfjsBackend({ engine: 'wasm' });
    await expect(backend.loadModel(files.model)).rejects.toThrow(ModelLoadError);
    await expect(backend.loadModel(files.model)).rejects.toThrow(
      /external file "weights.bin"; pass it in externalData/,
    );
  });
});
