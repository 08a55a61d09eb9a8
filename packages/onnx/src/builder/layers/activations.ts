import type { GraphBuilder } from '../graph-builder';
import type { Value } from '../value';

/** torch's nn.GELU(approximate=…): 'none' is the exact erf form, 'tanh' DiT's approximation. */
export type GeluApproximation = 'none' | 'tanh';

export function gelu(g: GraphBuilder, x: Value, approximate: GeluApproximation = 'none'): Value {
  if (approximate === 'none') {
    // 0.5·x·(1 + erf(x/√2))
    const inner = g.add(g.erf(g.mul(x, Math.SQRT1_2)), 1);
    return g.mul(g.mul(x, 0.5), inner);
  }
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  const cube = g.mul(g.mul(x, x), x);
  const inner = g.mul(g.add(x, g.mul(cube, 0.044715)), Math.sqrt(2 / Math.PI));
  return g.mul(g.mul(x, 0.5), g.add(g.tanh(inner), 1));
}

/** SiLU (swish): x·σ(x). */
export function silu(g: GraphBuilder, x: Value): Value {
  return g.mul(x, g.sigmoid(x));
}
