import { describe, expect, it } from 'vitest';
import { runDenoiseLoop } from './denoise-loop';

describe('one loop, three runtimes: only the backend value changes', () => {
  it('gives the same final latent on onnxruntime-node, onnxruntime-web and tfjs (max |Δ| ≤ 1e-4)', async () => {
    const node = await runDenoiseLoop({ backend: 'onnxruntime-node' });
    const web = await runDenoiseLoop({ backend: 'onnxruntime-web' });
    const tfjs = await runDenoiseLoop({ backend: 'tfjs' });
    const maxDiff = (a: Float32Array, b: Float32Array) =>
      a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
    expect(node.length).toBe(256);
    expect(node.some((v) => v !== 0)).toBe(true);
    expect(maxDiff(node, web)).toBeLessThanOrEqual(1e-4);
    expect(maxDiff(node, tfjs)).toBeLessThanOrEqual(1e-4);
  });
});
