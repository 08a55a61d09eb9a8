import type { GraphBuilder } from '../graph-builder';
import type { Value } from '../value';
import { silu } from './activations';
import { linear } from './linear';

export interface AdaLNModulationOptions {
  /** Module path of the block, e.g. 'blocks.0'; the layer is `<name>.adaLN_modulation.1` (DiT). */
  name: string;
  /** Width of each modulation vector. */
  dim: number;
  /** Width of the conditioning vector (default dim). */
  condDim?: number;
  /** How many vectors: 6 in a DiT block (shift/scale/gate ×2), 2 in the final layer. */
  chunks: number;
}

/**
 * adaLN-Zero: SiLU(c) → zero-initialised linear → `chunks` vectors of [B, dim], so every
 * modulated block starts as the identity (DiT).
 */
export function adaLNModulation(g: GraphBuilder, cond: Value, options: AdaLNModulationOptions): Value[] {
  const { dim, chunks, condDim = dim } = options;
  return g.scope(options.name, () => {
    const params = linear(g, silu(g, cond), {
      name: 'adaLN_modulation.1',
      inFeatures: condDim,
      outFeatures: chunks * dim,
      init: 'zeros',
    });
    return g.split(
      params,
      Array.from({ length: chunks }, () => dim),
      -1,
    );
  });
}

/** x·(1 + scale) + shift on tokens [B, N, D] with per-sample [B, D] vectors (DiT's modulate). */
export function modulate(g: GraphBuilder, x: Value, shift: Value, scale: Value): Value {
  const s = g.add(g.unsqueeze(scale, [1]), 1);
  return g.add(g.mul(x, s), g.unsqueeze(shift, [1]));
}

/** residual + gate·y, the gated residual of an adaLN block. */
export function gatedResidual(g: GraphBuilder, residual: Value, gate: Value, y: Value): Value {
  return g.add(residual, g.mul(g.unsqueeze(gate, [1]), y));
}
