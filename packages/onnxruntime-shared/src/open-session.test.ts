import { ModelLoadError, UnsupportedCapabilityError } from '@noiserefine/core';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { createOnnxruntimeBackend, type OnnxruntimeAdapterDefaults } from './create-backend';
import type { OrtRuntime } from './runtime';
import { affineModel } from './test-models';

// A provider no runtime has: it fails the way a missing GPU provider does.
const ABSENT = 'no-such-provider';

const RUNTIMES: [OrtRuntime, OnnxruntimeAdapterDefaults][] = [
  [
    ortNode,
    { name: 'onnxruntime-node', executionProviders: ['cpu'], fallbackProvider: 'cpu', openLocalPaths: true },
  ],
  [
    ortWeb,
    {
      name: 'onnxruntime-web',
      executionProviders: ['wasm'],
      fallbackProvider: 'wasm',
      openLocalPaths: false,
    },
  ],
];

describe.each(RUNTIMES)('execution provider fallback on %#', (runtime, defaults) => {
  const fallback = defaults.fallbackProvider as string;

  it('falls back to the CPU provider with one warning per backend', async () => {
    const warnings: string[] = [];
    const backend = createOnnxruntimeBackend(runtime, defaults, {
      executionProviders: ABSENT,
      onWarning: (m) => warnings.push(m),
    });
    const first = await backend.loadModel(affineModel());
    const second = await backend.loadModel(affineModel());
    expect(first.executionProviders).toEqual([fallback]);
    expect(second.executionProviders).toEqual([fallback]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(
        `^${defaults.name}: execution provider "${ABSENT}" unavailable, falling back to "${fallback}" \\(.+\\); pass strict: true to fail instead$`,
      ),
    );
    await backend.dispose();
  });

  it('fails with UnsupportedCapabilityError in strict mode', async () => {
    const backend = createOnnxruntimeBackend(runtime, defaults, {
      executionProviders: [ABSENT],
      strict: true,
    });
    const error = await backend.loadModel(affineModel()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedCapabilityError);
    expect((error as Error).message).toMatch(
      `${defaults.name}: execution provider "${ABSENT}" unavailable (the model loads with "${fallback}"): `,
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('blames a corrupt model, not the provider, when the fallback fails too', async () => {
    const warnings: string[] = [];
    const backend = createOnnxruntimeBackend(runtime, defaults, {
      executionProviders: ABSENT,
      strict: true,
      onWarning: (m) => warnings.push(m),
    });
    await expect(backend.loadModel(new Uint8Array([8, 1, 2, 3, 4, 5]))).rejects.toThrow(ModelLoadError);
    expect(warnings).toEqual([]);
  });
});
