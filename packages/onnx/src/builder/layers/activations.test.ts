import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph-builder';
import { geluExact, geluTanh, maxAbsDiff, siluRef, testValues } from '../test-support/reference-math';
import { runOnnx } from '../test-support/run-onnx';
import { gelu, silu } from './activations';

describe('activations', () => {
  it('gelu (exact and tanh) and silu match their definitions on onnxruntime', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['n']);
    g.output(gelu(g, x), 'gelu');
    g.output(gelu(g, x, 'tanh'), 'gelu_tanh');
    g.output(silu(g, x), 'silu');
    const xs = testValues(257, 5, 6);
    const out = await runOnnx(g.toModel(), { x: { data: xs, dims: [xs.length] } });
    const types = g.toModel().graph!.node!.map((n) => n.opType);
    expect(types).toContain('Erf');
    expect(types).toContain('Tanh');
    expect(maxAbsDiff(out.gelu!.data, Array.from(xs, geluExact))).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.gelu_tanh!.data, Array.from(xs, geluTanh))).toBeLessThan(1e-5);
    expect(maxAbsDiff(out.silu!.data, Array.from(xs, siluRef))).toBeLessThan(1e-5);
  });
});
