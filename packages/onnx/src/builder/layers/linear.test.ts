import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph-builder';
import { linearRef, mat, maxAbsDiff, testValues } from '../test-support/reference-math';
import { runOnnx } from '../test-support/run-onnx';
import { linear } from './linear';

describe('linear', () => {
  it('equals x·W + b on onnxruntime, on tokens with a symbolic batch', async () => {
    const g = new GraphBuilder({ seed: 1 });
    const x = g.input('x', 'float32', ['batch', 3, 5]);
    g.output(linear(g, x, { name: 'proj', inFeatures: 5, outFeatures: 7 }), 'y');
    const p = g.parameters();
    expect([...p.keys()]).toEqual(['proj.weight', 'proj.bias']);
    const xs = testValues(2 * 3 * 5, 11);
    const out = await runOnnx(g.toModel(), { x: { data: xs, dims: [2, 3, 5] } });
    const expected = linearRef(mat(xs, 6, 5), p.get('proj.weight')!, p.get('proj.bias')!, 7);
    expect(out.y?.dims).toEqual([2, 3, 7]);
    expect(maxAbsDiff(out.y!.data, expected.data)).toBeLessThan(1e-5);
  });

  it('initialises like torch (bound 1/√fanIn), xavier (bias 0) or zeros, and can drop the bias', () => {
    const g = new GraphBuilder({ seed: 2 });
    const x = g.input('x', 'float32', ['batch', 16]);
    linear(g, x, { name: 'a', inFeatures: 16, outFeatures: 64 });
    linear(g, x, { name: 'b', inFeatures: 16, outFeatures: 64, init: 'xavier' });
    linear(g, x, { name: 'c', inFeatures: 16, outFeatures: 4, init: 'zeros', bias: false });
    const p = g.parameters();
    const maxAbs = (name: string) => Math.max(...p.get(name)!.map(Math.abs));
    expect(maxAbs('a.weight')).toBeLessThanOrEqual(0.25);
    expect(maxAbs('a.weight')).toBeGreaterThan(0.2);
    expect(maxAbs('b.weight')).toBeLessThanOrEqual(Math.sqrt(6 / 80));
    expect(maxAbs('b.bias')).toBe(0);
    expect(maxAbs('c.weight')).toBe(0);
    expect(p.has('c.bias')).toBe(false);
  });
});
