import type { GraphBuilder } from '../graph-builder';
import { shapeMismatch } from '../shape-inference';
import type { Value } from '../value';

export interface LayerNormOptions {
  /** Module path, e.g. 'blocks.0.norm1'. */
  name: string;
  /** Size of the last axis. */
  dim: number;
  eps?: number;
  /** torch's elementwise_affine: learn `weight` and `bias` (DiT's block norms do not). */
  elementwiseAffine?: boolean;
}

/** torch.nn.LayerNorm over the last axis, as one LayerNormalization node. */
export function layerNorm(g: GraphBuilder, x: Value, options: LayerNormOptions): Value {
  const { dim, eps = 1e-5, elementwiseAffine = true } = options;
  return g.scope(options.name, () => {
    if (!elementwiseAffine) {
      // LayerNormalization needs a scale input: a fixed Constant, not a trainable initializer.
      const ones = g.constant(new Float32Array(dim).fill(1), [dim], { name: 'ones' });
      return g.layerNormalization(x, ones, null, { epsilon: eps });
    }
    const weight = g.parameter('weight', [dim], 'ones');
    const bias = g.parameter('bias', [dim], 'zeros');
    return g.layerNormalization(x, weight, bias, { epsilon: eps });
  });
}

export interface GroupNormOptions {
  name: string;
  numGroups: number;
  numChannels: number;
  eps?: number;
  affine?: boolean;
}

/**
 * torch.nn.GroupNorm on [B, C, ...spatial] from elementary ops (GroupNormalization is
 * opset 18). The spatial dims must be known to reshape back.
 */
export function groupNorm(g: GraphBuilder, x: Value, options: GroupNormOptions): Value {
  const { numGroups, numChannels: c, eps = 1e-5, affine = true } = options;
  const spatial = x.shape?.slice(2);
  if (
    x.shape === undefined ||
    x.dim(1) !== c ||
    spatial === undefined ||
    spatial.some((d) => typeof d !== 'number') ||
    c % numGroups !== 0
  ) {
    throw shapeMismatch(
      `groupNorm "${options.name}" (${numGroups} groups)`,
      `[batch, ${c}, ...known spatial dims] with ${c} divisible by ${numGroups}`,
      x.shape,
    );
  }
  return g.scope(options.name, () => {
    const grouped = g.reshape(x, [0, numGroups, -1]);
    const centred = g.sub(grouped, g.reduceMean(grouped, [2]));
    const variance = g.reduceMean(g.mul(centred, centred), [2]);
    const normalized = g.div(centred, g.sqrt(g.add(variance, eps)));
    const y = g.reshape(normalized, [0, c, ...(spatial as number[])]);
    if (!affine) return y;
    const perChannel = [c, ...spatial.map(() => 1)];
    const weight = g.reshape(g.parameter('weight', [c], 'ones'), perChannel);
    const bias = g.reshape(g.parameter('bias', [c], 'zeros'), perChannel);
    return g.add(g.mul(y, weight), bias);
  });
}
