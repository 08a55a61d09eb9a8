import { it } from 'vitest';
import { GraphBuilder } from '../builder/graph-builder';
import { attention } from '../builder/layers/attention';
import { layerNorm } from '../builder/layers/normalization';
import { makePerturbedAttentionModel } from './perturbed-attention';

it('perf', () => {
  const g = new GraphBuilder({ seed: 1 });
  let h = g.input('x', 'float32', ['batch', 16, 32]);
  const c = g.input('c', 'float32', ['batch', 7, 32]);
  for (let i = 0; i < 300; i++) {
    h = g.add(h, attention(g, layerNorm(g, h, { name: `blocks.${i}.norm1`, dim: 32 }), { name: `blocks.${i}.attn1`, dim: 32, heads: 2 }));
    h = g.add(h, attention(g, layerNorm(g, h, { name: `blocks.${i}.norm2`, dim: 32 }), { name: `blocks.${i}.attn2`, dim: 32, heads: 2, context: c }));
  }
  g.output(h, 'y');
  const m = g.toModel();
  const t0 = performance.now();
  const p = makePerturbedAttentionModel(m, { appliedLayers: ['blocks.1\\d'] });
  console.log(m.graph!.node!.length, p.graph!.node!.length, performance.now() - t0, 'ms');
});
