import {
  ADAPTER_API_VERSION,
  type HostTensor,
  ModelLoadError,
  ModelSignatureError,
  resolveBackend,
  tensor,
} from '@noiserefine/core';
import { runConformanceSuite } from '@noiserefine/core/testing';
import { describe, expect, it } from 'vitest';
import { tfjsBackend } from './backend';
import tfjsDefault from './index';
import { buildModel } from './test-support/onnx-model';
import { runReference } from './test-support/reference-runtime';

runConformanceSuite({
  name: 'tfjs backend (wasm engine)',
  createBackend: () => tfjsBackend({ engine: 'wasm' }),
});

describe('tfjs backend', () => {
  it('is what the default export creates, with no arguments, named "tfjs"', async () => {
    const backend = await tfjsDefault();
    expect(backend.name).toBe('tfjs');
    expect(backend.apiVersion).toBe(ADAPTER_API_VERSION);
    expect(backend.tensors.capabilities.gradients).toBe(true);
    // With neither tfjs-node package installed the wasm engine is the best one present.
    expect(['tfjs-node-gpu', 'tfjs-node', 'wasm']).toContain(backend.engineReport.engine);
    await expect(resolveBackend(backend)).resolves.toBe(backend);
  });

  it('runs float16 inputs and reports their metadata', async () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', type: 'float16', shape: [3] }],
      outputs: [{ name: 'y', type: 'float16' }],
      nodes: [{ op: 'Mul', inputs: ['x', 'x'], outputs: ['y'] }],
    });
    const backend = await tfjsBackend({ engine: 'wasm' });
    const model = await backend.loadModel(bytes);
    expect(model.inputs[0]?.dtype).toBe('float16');
    // 1.5, -2 and 0.333 (0x3555) as float16 bits.
    const bits = Uint16Array.of(0x3e00, 0xc000, 0x3555);
    const feed: HostTensor = { dtype: 'float16', data: bits, shape: [3] };
    const { y } = await model.run({ x: feed });
    const reference = await runReference(bytes, { x: { type: 'float16', data: bits, dims: [3] } });
    const got = await (y as NonNullable<typeof y>).data();
    // float16 math in onnxruntime rounds the product; we compute in float32.
    Array.from(reference.y?.data ?? []).forEach((want, i) => {
      expect(got[i]).toBeCloseTo(want, 2);
    });
    // A float32 core tensor feeds the same input.
    const x32 = tensor([1.5, -2, 0.333], [3], backend.tensors);
    const { y: y32 } = await model.run({ x: x32 });
    expect(Array.from(await (y32 as NonNullable<typeof y32>).data())[0]).toBe(2.25);
    y?.dispose();
    y32?.dispose();
    x32.dispose();
    await backend.dispose();
  });

  it('checks feeds against the signature before running', async () => {
    const backend = await tfjsBackend({ engine: 'wasm' });
    const model = await backend.loadModel(
      buildModel({
        inputs: [{ name: 'ids', type: 'int64', shape: [2] }],
        outputs: [{ name: 'y', type: 'int64' }],
        nodes: [{ op: 'Neg', inputs: ['ids'], outputs: ['y'] }],
      }),
    );
    await expect(model.run({})).rejects.toThrow(ModelSignatureError);
    const ids: HostTensor = { dtype: 'int64', data: BigInt64Array.of(3n, -4n), shape: [2] };
    const { y } = await model.run({ ids });
    expect(Array.from(await (y as NonNullable<typeof y>).data())).toEqual([-3, 4]);
    y?.dispose();
    await backend.dispose();
  });

  it('fails to load garbage with ModelLoadError', async () => {
    const backend = await tfjsBackend({ engine: 'wasm' });
    await expect(backend.loadModel(Uint8Array.of(1, 2, 3, 255))).rejects.toThrow(ModelLoadError);
    await expect(backend.loadModel('/nonexistent/model.onnx')).rejects.toThrow(
      /cannot load model "\/nonexistent\/model.onnx"/,
    );
  });
});
