import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph-builder';
import { geluTanh, linearRef, map, mat, maxAbsDiff, testValues } from '../test-support/reference-math';
import { runOnnx } from '../test-support/run-onnx';
import { mlp } from './mlp';

describe('mlp', () => {
  it('is fc1 → gelu(tanh) → fc2 with timm names', async () => {
    const g = new GraphBuilder({ seed: 4 });
    const x = g.input('x', 'float32', ['batch', 4, 6]);
    g.output(
      mlp(g, x, { name: 'blocks.0.mlp', inFeatures: 6, hiddenFeatures: 24, activation: 'gelu-tanh' }),
      'y',
    );
    const p = g.parameters();
    expect([...p.keys()]).toEqual([
      'blocks.0.mlp.fc1.weight',
      'blocks.0.mlp.fc1.bias',
      'blocks.0.mlp.fc2.weight',
      'blocks.0.mlp.fc2.bias',
    ]);
    const xs = testValues(2 * 4 * 6, 8);
    const out = await runOnnx(g.toModel(), { x: { data: xs, dims: [2, 4, 6] } });
    const h = map(
      linearRef(mat(xs, 8, 6), p.get('blocks.0.mlp.fc1.weight')!, p.get('blocks.0.mlp.fc1.bias')!, 24),
      geluTanh,
    );
    const y = linearRef(h, p.get('blocks.0.mlp.fc2.weight')!, p.get('blocks.0.mlp.fc2.bias')!, 6);
    expect(out.y?.dims).toEqual([2, 4, 6]);
    expect(maxAbsDiff(out.y!.data, y.data)).toBeLessThan(1e-5);
  });
});
