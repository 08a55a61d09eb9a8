import * as tf from '@tensorflow/tfjs-core';
import { float32ToFloat16Bits } from '@noiserefine/core';
import { decodeModel, onnx, type TensorProto } from '@noiserefine/onnx';
import { describe, expect, it } from 'vitest';
import { tfjsBackend } from '../backend';
import { pseudoRandom } from '../test-support/gradient-check';
import { buildModel } from '../test-support/onnx-model';
import { runReference } from '../test-support/reference-runtime';
import { SGD } from '../training/optimizers';
import { trainStep } from '../training/train-step';
import { exportOnnx } from './export-onnx';
import { decodeTensorProto } from './tensor-proto';

const DT = onnx.TensorProto.DataType;

/** y = reshape(x·w32) ⊙ cast(w16): a float32, a float16 and an int64 initializer. */
const MODEL = buildModel({
  inputs: [{ name: 'x', type: 'float32', shape: [3, 4] }],
  outputs: [{ name: 'y', type: 'float32' }],
  initializers: [
    { name: 'w32', type: 'float32', dims: [4, 2], values: pseudoRandom(8, 1) },
    { name: 'w16', type: 'float16', dims: [2], values: float32ToFloat16Bits([0.75, -1.5]) },
    { name: 'shape', type: 'int64', dims: [2], values: [3, 2] },
  ],
  nodes: [
    { op: 'MatMul', inputs: ['x', 'w32'], outputs: ['h'] },
    { op: 'Reshape', inputs: ['h', 'shape'], outputs: ['r'] },
    { op: 'Cast', inputs: ['w16'], outputs: ['s'], attrs: { to: DT.FLOAT } },
    { op: 'Mul', inputs: ['r', 's'], outputs: ['y'] },
  ],
});

const initializer = (bytes: Uint8Array, name: string) =>
  ((decodeModel(bytes).graph?.initializer ?? []) as TensorProto[]).find(
    (t) => t.name === name,
  ) as TensorProto;

describe('exportOnnx', () => {
  it('writes trained weights back, keeping each initializer’s element type', async () => {
    const backend = await tfjsBackend({ engine: 'wasm' });
    const model = await backend.loadModel(MODEL, { trainable: true });
    expect([...model.variables.keys()]).toEqual(['w32', 'w16']);
    const xValues = pseudoRandom(12, 2);
    const x = tf.tensor(xValues, [3, 4]);
    const optimizer = new SGD({ lr: 0.1 });
    for (let i = 0; i < 5; i++) {
      await trainStep({
        loss: () => tf.sum(tf.square(model.graph.execute({ x }).y as tf.Tensor)),
        optimizer,
        variables: model.variables,
      });
    }
    const trained32 = Array.from(model.variables.get('w32')?.dataSync() ?? []);
    const trained16 = Array.from(model.variables.get('w16')?.dataSync() ?? []);
    expect(trained16).not.toEqual([0.75, -1.5]);

    const exported = await exportOnnx(model);
    const w32 = initializer(exported, 'w32');
    const w16 = initializer(exported, 'w16');
    const shape = initializer(exported, 'shape');
    expect(w32.dataType).toBe(DT.FLOAT);
    expect(w16.dataType).toBe(DT.FLOAT16);
    expect(w16.rawData.length).toBe(2 * 2);
    expect(Array.from(decodeTensorProto(w32).values)).toEqual(trained32);
    expect(Array.from(new Uint16Array(new Uint8Array(w16.rawData).buffer))).toEqual(
      Array.from(float32ToFloat16Bits(trained16)),
    );
    expect(decodeTensorProto(shape)).toEqual(decodeTensorProto(initializer(MODEL, 'shape')));

    // The exported file runs in onnxruntime and agrees with the reloaded model.
    const reference = await runReference(exported, { x: { type: 'float32', data: xValues, dims: [3, 4] } });
    const reloaded = await backend.loadModel(exported);
    const { y } = reloaded.graph.execute({ x });
    const got = Array.from((y as tf.Tensor).dataSync());
    Array.from(reference.y?.data ?? []).forEach((want, i) => {
      expect(got[i]).toBeCloseTo(want, 5);
    });
    // …and with the model in training, up to the float16 rounding of w16.
    const { y: live } = model.graph.execute({ x });
    Array.from((live as tf.Tensor).dataSync()).forEach((v, i) => {
      expect(got[i]).toBeCloseTo(v, 2);
    });

    tf.dispose([x, y as tf.Tensor, live as tf.Tensor]);
    optimizer.dispose();
    await backend.dispose();
  });
});
