import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedCapabilityError, UnsupportedOptionError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { type EngineName, selectEngine } from './engine-selection';

const outcomes = (attempts: readonly { engine: string; outcome: string }[]) =>
  Object.fromEntries(attempts.map((a) => [a.engine, a.outcome]));

describe('selectEngine', () => {
  it('picks the best engine installed and says why the better ones were skipped', async () => {
    const report = await selectEngine();
    // Neither tfjs-node package can install here (their install downloads libtensorflow).
    expect(report.engine).toBe('wasm');
    expect(report.forced).toBe(false);
    expect(outcomes(report.attempts)).toEqual({
      'tfjs-node-gpu': 'not-installed',
      'tfjs-node': 'not-installed',
      wasm: 'chosen',
      cpu: 'not-tried',
    });
    expect(report.summary).toContain(
      'tfjs-node-gpu (@tensorflow/tfjs-node-gpu): not-installed, package not installed',
    );
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getGradient('Conv2D')).toBeDefined();
  });

  it('honours a forced engine', async () => {
    const report = await selectEngine({ engine: 'cpu' });
    expect(report.engine).toBe('cpu');
    expect(report.forced).toBe(true);
    expect(report.location).toBe('cpu');
    expect(outcomes(report.attempts)).toEqual({
      'tfjs-node-gpu': 'excluded',
      'tfjs-node': 'excluded',
      wasm: 'excluded',
      cpu: 'chosen',
    });
    expect(tf.getBackend()).toBe('cpu');
    await selectEngine({ engine: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('fails with a typed error when the forced engine is not installed', async () => {
    await expect(selectEngine({ engine: 'tfjs-node' })).rejects.toThrow(UnsupportedCapabilityError);
    await expect(selectEngine({ engine: 'tfjs-node' })).rejects.toThrow(
      /"tfjs-node" was requested but package not installed; install @tensorflow\/tfjs-node/,
    );
  });

  it('rejects an unknown engine name, listing the known ones', async () => {
    await expect(selectEngine({ engine: 'webgpu' as EngineName })).rejects.toThrow(UnsupportedOptionError);
    await expect(selectEngine({ engine: 'webgpu' as EngineName })).rejects.toThrow(
      /"tfjs-node-gpu", "tfjs-node", "wasm", "cpu"/,
    );
  });

  it('falls back past an engine that is installed but cannot start', async () => {
    const report = await selectEngine({
      importEngine: (name) =>
        name === '@tensorflow/tfjs-node-gpu'
          ? Promise.reject(new Error('libcudart.so.11.0: cannot open shared object file'))
          : import(/* @vite-ignore */ name),
    });
    expect(report.engine).toBe('wasm');
    const gpu = report.attempts.find((a) => a.engine === 'tfjs-node-gpu');
    expect(gpu?.outcome).toBe('failed');
    expect(gpu?.reason).toBe('failed to start: libcudart.so.11.0: cannot open shared object file');
  });
});
