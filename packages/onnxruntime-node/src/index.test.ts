import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  ADAPTER_API_VERSION,
  referenceBackend,
  resolveBackend,
  tensor,
  UnsupportedCapabilityError,
} from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import onnxruntimeNodeDefault, { ONNXRUNTIME_NODE_DEFAULTS, onnxruntimeNode } from './index';
import { tinyDenoiserModel } from './tiny-denoiser';

// CUDA is usable only where onnxruntime-node's install script fetched its provider library.
const ortBinDir = join(
  dirname(createRequire(import.meta.url).resolve('onnxruntime-node')),
  '..',
  'bin',
  'napi-v6',
  process.platform,
  process.arch,
);
const hasCuda = existsSync(join(ortBinDir, 'libonnxruntime_providers_cuda.so'));

describe('onnxruntimeNode', () => {
  it('is a Backend on the CPU provider whose tensors are the reference backend', async () => {
    const backend = onnxruntimeNode();
    expect(backend.name).toBe('onnxruntime-node');
    expect(backend.apiVersion).toBe(ADAPTER_API_VERSION);
    expect(backend.tensors).toBe(referenceBackend);
    expect(backend.executionProviders).toEqual(['cpu']);
    expect(await resolveBackend(backend)).toBe(backend);
    expect(ONNXRUNTIME_NODE_DEFAULTS.fallbackProvider).toBe('cpu');
  });

  it('has a default export the backend registry can call without arguments', () => {
    expect(onnxruntimeNodeDefault).toBe(onnxruntimeNode);
    expect(onnxruntimeNodeDefault().name).toBe('onnxruntime-node');
  });

  it('runs a UNet-shaped model from core tensors and an int64 timestep', async () => {
    const backend = onnxruntimeNode();
    const model = await backend.loadModel(tinyDenoiserModel());
    expect(model.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual([
      ['sample', 'float32', ['batch', 4, 'height', 'width']],
      ['timestep', 'int64', ['batch']],
    ]);
    const out = await model.run({
      sample: tensor(new Float32Array(2 * 4 * 8 * 8).fill(0.5), [2, 4, 8, 8]),
      timestep: { dtype: 'int64', data: BigInt64Array.from([999n, 999n]), shape: [2] },
    });
    expect(out.out_sample?.shape).toEqual([2, 4, 8, 8]);
    await backend.dispose();
  });

  // Skipped on machines that have onnxruntime's CUDA provider library: there the fallback never happens.
  describe.skipIf(hasCuda)('without the CUDA provider library', () => {
    it('falls back from cuda to cpu with a warning', async () => {
      const warnings: string[] = [];
      const backend = onnxruntimeNode({ executionProviders: ['cuda'], onWarning: (m) => warnings.push(m) });
      const model = await backend.loadModel(tinyDenoiserModel());
      expect(model.executionProviders).toEqual(['cpu']);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^onnxruntime-node: execution provider "cuda" unavailable, falling back to "cpu"/,
      );
      await backend.dispose();
    });

    it('fails clearly for cuda in strict mode', async () => {
      const backend = onnxruntimeNode({ executionProviders: 'cuda', strict: true });
      await expect(backend.loadModel(tinyDenoiserModel())).rejects.toThrow(
        /^onnxruntime-node: execution provider "cuda" unavailable \(the model loads with "cpu"\)/,
      );
      await expect(backend.loadModel(tinyDenoiserModel())).rejects.toThrow(UnsupportedCapabilityError);
    });
  });
});
