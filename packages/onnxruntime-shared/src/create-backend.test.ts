import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortError,
  add,
  DisposedTensorError,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  type HostTensor,
  InvalidArgumentError,
  ModelLoadError,
  ModelSignatureError,
  tensor,
} from '@noiserefine/core';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxruntimeBackend, type OnnxruntimeAdapterDefaults } from './create-backend';
import type { OrtRuntime } from './runtime';
import {
  AFFINE_BIAS,
  AFFINE_WEIGHT,
  affineModel,
  EXTERNAL_WEIGHT,
  externalDataModel,
  float16Model,
  integerInputsModel,
  scalarInputModel,
} from './test-models';

const RUNTIMES: [string, OrtRuntime, OnnxruntimeAdapterDefaults][] = [
  [
    'onnxruntime-node',
    ortNode,
    { name: 'onnxruntime-node', executionProviders: ['cpu'], fallbackProvider: 'cpu', openLocalPaths: true },
  ],
  [
    'onnxruntime-web',
    ortWeb,
    {
      name: 'onnxruntime-web',
      executionProviders: ['wasm'],
      fallbackProvider: 'wasm',
      openLocalPaths: false,
    },
  ],
];

const int64 = (values: number[]): HostTensor => ({
  dtype: 'int64',
  data: BigInt64Array.from(values.map(BigInt)),
  shape: [values.length],
});

function affine(x: readonly number[]): { y: number[]; z: number[] } {
  const y = x.map((v, i) => Math.fround(v * AFFINE_WEIGHT[i % 3]! + AFFINE_BIAS[i % 3]!));
  return { y, z: y.map((v) => Math.fround(v * v)) };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ort-adapter-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(RUNTIMES)('%s adapter', (name, runtime, defaults) => {
  const backend = () => createOnnxruntimeBackend(runtime, defaults, { onWarning: () => {} });

  it('reports names, dtypes and shapes with symbolic dimensions', async () => {
    const model = await backend().loadModel(affineModel());
    expect(model.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 3] }]);
    expect(model.outputs).toEqual([
      { name: 'y', dtype: 'float32', shape: ['batch', 3] },
      { name: 'z', dtype: 'float32', shape: ['batch', 3] },
    ]);
    expect(model.executionProviders).toEqual(defaults.executionProviders);
    await model.dispose();
  });

  it('fixes symbolic dimensions with freeDimensionOverrides', async () => {
    const model = await backend().loadModel(affineModel(), { freeDimensionOverrides: { batch: 2 } });
    expect(model.inputs[0]?.shape).toEqual([2, 3]);
    await model.dispose();
  });

  it('runs on core tensors and returns reference tensors usable in core math', async () => {
    const b = backend();
    const model = await b.loadModel(affineModel());
    const x = [1, 2, 3, -4, 0.5, 6];
    const out = await model.run({ x: tensor(x, [2, 3]) });
    expect(Object.keys(out).sort()).toEqual(['y', 'z']);
    expect(out.y!.shape).toEqual([2, 3]);
    expect(out.y!.backend).toBe(b.tensors);
    expect(Array.from(await out.y!.data())).toEqual(affine(x).y);
    expect(Array.from(await out.z!.data())).toEqual(affine(x).z);
    const sum = add(out.y!, out.z!);
    expect(sum.shape).toEqual([2, 3]);
    await model.dispose();
  });

  it('computes only the requested outputs and names unknown ones', async () => {
    const model = await backend().loadModel(affineModel());
    const out = await model.run({ x: tensor([1, 1, 1], [1, 3]) }, { outputs: ['z'] });
    expect(Object.keys(out)).toEqual(['z']);
    await expect(model.run({ x: tensor([1, 1, 1], [1, 3]) }, { outputs: ['w'] })).rejects.toThrow(
      /unknown output "w"; the model's outputs are: y: float32 \[batch, 3\], z: float32 \[batch, 3\]/,
    );
    await model.dispose();
  });

  it('converts float32 tensors to a float16 input and float16 outputs back', async () => {
    const model = await backend().loadModel(float16Model());
    expect(model.inputs[0]?.dtype).toBe('float16');
    const x = Float32Array.from([1 / 3, -2.5, 70000]);
    const out = await model.run({ x: tensor(x, [1, 3]) });
    const rounded = float16BitsToFloat32(float32ToFloat16Bits(x));
    expect(Array.from(rounded)).toEqual([0.333251953125, -2.5, Number.POSITIVE_INFINITY]);
    expect(Array.from(await out.y32!.data())).toEqual(Array.from(rounded, (v) => 2 * v));
    expect(Array.from(await out.y!.data())).toEqual(Array.from(rounded, (v) => 2 * v));
    await model.dispose();
  });

  it('takes float16 bits in a HostTensor as they are', async () => {
    const model = await backend().loadModel(float16Model());
    const bits = float32ToFloat16Bits([0.5, 1.5, -8]);
    const out = await model.run({ x: { dtype: 'float16', data: bits, shape: [1, 3] } });
    expect(Array.from(await out.y!.data())).toEqual([1, 3, -16]);
    await model.dispose();
  });

  it('feeds integer HostTensors, widening int32 and plain numbers to int64', async () => {
    const model = await backend().loadModel(integerInputsModel());
    const offset: HostTensor = { dtype: 'int32', data: Int32Array.from([10]), shape: [1] };
    const out = await model.run({ ids: int64([1, 2, 3]), offset });
    expect(Array.from(await out.out!.data())).toEqual([11, 12, 13]);
    const widened = await model.run({
      ids: { dtype: 'int32', data: [4, 5], shape: [2] },
      offset: { dtype: 'int32', data: [-1], shape: [1] },
    });
    expect(Array.from(await widened.out!.data())).toEqual([3, 4]);
    await expect(model.run({ ids: { dtype: 'int64', data: [1.5], shape: [1] }, offset })).rejects.toThrow(
      new InvalidArgumentError('input "ids": expected integers, got 1.5 at flat index 0'),
    );
    await model.dispose();
  });

  it('rejects mismatched feeds with the expected and given signatures', async () => {
    const model = await backend().loadModel(integerInputsModel());
    const error = await model
      .run({ ids: tensor([1, 2], [2]), offst: { dtype: 'int32', data: [1], shape: [1] } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelSignatureError);
    const message = (error as Error).message;
    expect(message).toContain('input "ids": expected int64, got a float32 Tensor');
    expect(message).toContain('missing input "offset"');
    expect(message).toContain('unknown input "offst"');
    expect(message).toContain('expected: ids: int64 [n], offset: int32 [1]');
    expect(message).toContain('given:    ids: float32 [2], offst: int32 [1]');
    await model.dispose();
  });

  it('reports a scalar input with an empty shape and feeds it a scalar tensor', async () => {
    const model = await backend().loadModel(scalarInputModel());
    expect(model.inputs[1]).toEqual({ name: 't', dtype: 'float32', shape: [] });
    const out = await model.run({ x: tensor([1, 2], [2]), t: tensor([10], []) });
    expect(Array.from(await out.y!.data())).toEqual([11, 12]);
    await model.dispose();
  });

  it('fails on disposed tensors and on disposed models', async () => {
    const model = await backend().loadModel(affineModel());
    const x = tensor([1, 2, 3], [1, 3]);
    x.dispose();
    await expect(model.run({ x })).rejects.toThrow(DisposedTensorError);
    await model.dispose();
    expect(model.isDisposed).toBe(true);
    await expect(model.run({ x: tensor([1, 2, 3], [1, 3]) })).rejects.toThrow(
      new InvalidArgumentError(`model "${model.label}" was used after dispose()`),
    );
  });

  it('queues concurrent runs on one session', async () => {
    const model = await backend().loadModel(affineModel());
    const inputs = Array.from({ length: 6 }, (_, i) => [i, i + 1, i + 2]);
    const outs = await Promise.all(
      inputs.map((x) => model.run({ x: tensor(x, [1, 3]) }, { outputs: ['y'] })),
    );
    for (const [i, out] of outs.entries()) {
      expect(Array.from(await out.y!.data())).toEqual(affine(inputs[i]!).y);
    }
    await model.dispose();
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(backend().loadModel(affineModel(), { signal: controller.signal })).rejects.toThrow(
      AbortError,
    );
    const model = await backend().loadModel(affineModel());
    await expect(model.run({ x: tensor([1, 2, 3], [1, 3]) }, { signal: controller.signal })).rejects.toThrow(
      AbortError,
    );
    await model.dispose();
  });

  it('releases every model it loaded on dispose()', async () => {
    const b = backend();
    const first = await b.loadModel(affineModel());
    const second = await b.loadModel(float16Model());
    await first.dispose();
    await b.dispose();
    expect(second.isDisposed).toBe(true);
  });

  it('names a missing model file', async () => {
    const missing = join(dir, name, 'missing.onnx');
    const error = await backend()
      .loadModel(missing)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toBe(`cannot load model "${missing}": file not found`);
  });

  it('reports a corrupt model with the runtime error as cause', async () => {
    const corrupt = affineModel().slice(0, 40);
    const error = await backend()
      .loadModel(corrupt)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toMatch(
      /^cannot load model "<model bytes, 40 B>": .*protobuf parsing failed/,
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
    await expect(backend().loadModel(new Uint8Array(0))).rejects.toThrow(
      'cannot load model "<model bytes, 0 B>": the model is empty (0 bytes)',
    );
  });

  it('loads a file path and a file: URL', async () => {
    const path = join(dir, `${name}-affine.onnx`);
    await writeFile(path, affineModel());
    for (const source of [path, new URL(`file://${path}`)]) {
      const model = await backend().loadModel(source);
      expect(model.label).toBe(source instanceof URL ? source.href : path);
      const out = await model.run({ x: tensor([1, 1, 1], [1, 3]) });
      expect(Array.from(await out.y!.data())).toEqual(affine([1, 1, 1]).y);
      await model.dispose();
    }
  });

  it('loads external data given as bytes or as a path', async () => {
    const { model: bytes, weights } = externalDataModel();
    const weightsPath = join(dir, `${name}-weights.bin`);
    await writeFile(weightsPath, weights);
    const x = tensor([1, 2, 3], [3]);
    const expected = EXTERNAL_WEIGHT.map((w, i) => w * (i + 1));
    for (const data of [weights, weightsPath]) {
      const model = await backend().loadModel({
        model: bytes,
        externalData: [{ path: 'weights.bin', data }],
      });
      expect(Array.from(await (await model.run({ x })).y!.data())).toEqual(expected);
      await model.dispose();
    }
    const missing = join(dir, 'no-such-weights.bin');
    await expect(
      backend().loadModel({ model: bytes, externalData: [{ path: 'weights.bin', data: missing }] }),
    ).rejects.toThrow(`cannot load model "${missing}": file not found`);
  });

  it('rejects malformed sources with what it accepts', async () => {
    await expect(backend().loadModel(42 as never)).rejects.toThrow(
      'model source: expected a file path, a URL, model bytes (Uint8Array) or { model, externalData }, got number 42',
    );
  });
});

describe('onnxruntime-node adapter on local paths', () => {
  it('lets the runtime find external data beside the model file', async () => {
    const [, runtime, defaults] = RUNTIMES[0]!;
    const { model: bytes, weights } = externalDataModel('beside.bin');
    const modelPath = join(dir, 'external.onnx');
    await writeFile(modelPath, bytes);
    await writeFile(join(dir, 'beside.bin'), weights);
    const model = await createOnnxruntimeBackend(runtime, defaults).loadModel(modelPath);
    const out = await model.run({ x: tensor([1, 1, 1], [3]) });
    expect(Array.from(await out.y!.data())).toEqual([...EXTERNAL_WEIGHT]);
    await model.dispose();
  });
});
