import { InvalidArgumentError } from '@noiserefine/core';
import type { GraphBuilder } from '../graph-builder';
import type { Value } from '../value';
import { type LinearInit, linear } from './linear';

export interface AttentionOptions {
  /** Module path, e.g. 'blocks.0.attn1'; projections are `to_q`, `to_k`, `to_v`, `to_out.0` (diffusers). */
  name: string;
  /** Width of the queries' tokens (and of the output). */
  dim: number;
  heads: number;
  /** Tokens to attend to (cross-attention), [B, M, contextDim]; self-attention when absent. */
  context?: Value;
  contextDim?: number;
  /** Bias on the q/k/v projections (DiT: yes; SD's UNet: no). The output projection always has one. */
  qkvBias?: boolean;
  init?: LinearInit;
}

/**
 * Multi-head scaled-dot-product attention on [B, N, dim] tokens. The score, softmax and
 * weighting nodes are named `<name>.attention_scores`, `<name>.attention_probs` and
 * `<name>.attention_output`, so a pass can find and rewire them (e.g. perturbed attention
 * replaces the probabilities by the identity).
 */
export function attention(g: GraphBuilder, x: Value, options: AttentionOptions): Value {
  const { dim, heads, qkvBias = true, init } = options;
  if (!Number.isInteger(heads) || heads < 1 || dim % heads !== 0) {
    throw new InvalidArgumentError(
      `attention "${options.name}": expected heads dividing dim ${dim}, got ${heads}`,
    );
  }
  const headDim = dim / heads;
  const context = options.context ?? x;
  const contextDim = options.context === undefined ? dim : (options.contextDim ?? dim);
  return g.scope(options.name, () => {
    const project = (input: Value, name: string, inFeatures: number) =>
      linear(g, input, { name, inFeatures, outFeatures: dim, bias: qkvBias, init });
    // [B, N, dim] → [B, N, heads, headDim] → [B, heads, N, headDim] (keys: [B, heads, headDim, M]).
    const split = (t: Value, perm: number[]) => g.transpose(g.reshape(t, [0, 0, heads, headDim]), perm);
    const q = split(project(x, 'to_q', dim), [0, 2, 1, 3]);
    const kT = split(project(context, 'to_k', contextDim), [0, 2, 3, 1]);
    const v = split(project(context, 'to_v', contextDim), [0, 2, 1, 3]);
    const scores = g.mul(g.matMul(q, kT, { name: 'attention_scores' }), 1 / Math.sqrt(headDim));
    const probs = g.softmax(scores, -1, { name: 'attention_probs' });
    const weighted = g.matMul(probs, v, { name: 'attention_output' });
    const merged = g.reshape(g.transpose(weighted, [0, 2, 1, 3]), [0, 0, dim]);
    return linear(g, merged, { name: 'to_out.0', inFeatures: dim, outFeatures: dim, init });
  });
}
