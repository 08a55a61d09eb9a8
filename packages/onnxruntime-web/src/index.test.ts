import {
  ADAPTER_API_VERSION,
  InvalidArgumentError,
  referenceBackend,
  resolveBackend,
  UnsupportedCapabilityError,
} from '@noiserefine/core';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { runDdimLoop } from './browser-test/ddim-loop';
import { scalarTimestepDenoiser } from './browser-test/denoiser';
import onnxruntimeWebDefault, { ONNXRUNTIME_WEB_DEFAULTS, onnxruntimeWeb } from './index';

describe('onnxruntimeWeb', () => {
  it('is a Backend on the wasm provider whose tensors are the reference backend', async () => {
    const backend = onnxruntimeWeb();
    expect(backend.name).toBe('onnxruntime-web');
    expect(backend.apiVersion).toBe(ADAPTER_API_VERSION);
    expect(backend.tensors).toBe(referenceBackend);
    expect(backend.executionProviders).toEqual(['wasm']);
    expect(await resolveBackend(backend)).toBe(backend);
    expect(ONNXRUNTIME_WEB_DEFAULTS.fallbackProvider).toBe('wasm');
  });

  it('has a default export the backend registry can call without arguments', () => {
    expect(onnxruntimeWebDefault).toBe(onnxruntimeWeb);
    expect(onnxruntimeWebDefault().name).toBe('onnxruntime-web');
  });

  it('sets the wasm thread count and checks it', () => {
    const before = ort.env.wasm.numThreads;
    try {
      onnxruntimeWeb({ numThreads: 1 });
      expect(ort.env.wasm.numThreads).toBe(1);
      expect(() => onnxruntimeWeb({ numThreads: 1.5 })).toThrow(
        new InvalidArgumentError(
          'onnxruntimeWeb: numThreads must be a non-negative integer (0: automatic), got 1.5',
        ),
      );
    } finally {
      ort.env.wasm.numThreads = before;
    }
  });

  it('falls back from WebGPU to wasm in Node, or fails in strict mode', async () => {
    const warnings: string[] = [];
    const loose = onnxruntimeWeb({ executionProviders: ['webgpu'], onWarning: (m) => warnings.push(m) });
    const result = await runDdimLoop(loose, scalarTimestepDenoiser(), {
      steps: 2,
      seed: 0,
      shape: [1, 4, 4, 4],
    });
    expect(result.executionProviders).toEqual(['wasm']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^onnxruntime-web: execution provider "webgpu" unavailable, falling back to "wasm"/,
    );
    const strict = onnxruntimeWeb({ executionProviders: 'webgpu', strict: true });
    await expect(strict.loadModel(scalarTimestepDenoiser())).rejects.toThrow(UnsupportedCapabilityError);
  });
});
