import type { GraphBuilder } from '../graph-builder';
import type { Value } from '../value';
import { type GeluApproximation, gelu, silu } from './activations';
import { type LinearInit, linear } from './linear';

export interface MlpOptions {
  /** Module path, e.g. 'blocks.0.mlp'; the layers are `<name>.fc1` and `<name>.fc2` (timm's Mlp). */
  name: string;
  inFeatures: number;
  hiddenFeatures: number;
  outFeatures?: number;
  activation?: 'gelu' | 'gelu-tanh' | 'silu';
  init?: LinearInit;
}

/** fc1 → activation → fc2, the transformer feed-forward block. */
export function mlp(g: GraphBuilder, x: Value, options: MlpOptions): Value {
  const { inFeatures, hiddenFeatures, outFeatures = inFeatures, activation = 'gelu', init } = options;
  return g.scope(options.name, () => {
    const h = linear(g, x, { name: 'fc1', inFeatures, outFeatures: hiddenFeatures, init });
    const approximate: GeluApproximation = activation === 'gelu-tanh' ? 'tanh' : 'none';
    const a = activation === 'silu' ? silu(g, h) : gelu(g, h, approximate);
    return linear(g, a, { name: 'fc2', inFeatures: hiddenFeatures, outFeatures, init });
  });
}
