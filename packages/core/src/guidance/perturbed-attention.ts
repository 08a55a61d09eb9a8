import { disposeAll, linearCombination } from '../tensor/ops';
import type { LinearTerm, Tensor } from '../tensor/tensor';
import { rescaleNoiseCfg } from './classifier-free';
import type { Guidance, GuidanceContext, GuidancePass, PassOutputs } from './guidance';
import { condPassThrough } from './no-guidance';
import { checkScale } from './options';
import { requirePass } from './passes';

const NAME = 'perturbedAttentionGuidance';

export interface PerturbedAttentionGuidanceOptions {
  /** s in c + s·(c − perturbed). 0 turns PAG off. */
  pagScale: number;
  /**
   * Lowers s towards the end of sampling: s_t = max(pagScale − pagAdaptiveScale·(1000 − t), 0),
   * with t in train-timestep units (diffusers' `pag_adaptive_scale`). 0 (the default) keeps s fixed.
   */
  pagAdaptiveScale?: number;
  /** CFG's w, combined as u + w·(c − u) + s·(c − perturbed); on iff w > 1. Default 1 (PAG alone). */
  guidanceScale?: number;
  /** φ of guidance rescale, applied (as diffusers does) only when CFG is on. Default 0. */
  guidanceRescale?: number;
}

export interface PerturbedAttentionGuidance extends Guidance {
  readonly pagScale: number;
  readonly pagAdaptiveScale: number;
  readonly guidanceScale: number;
  readonly guidanceRescale: number;
  /** The PAG scale s_t in effect at `timestep`. */
  pagScaleAt(timestep: number): number;
}

/**
 * Perturbed-Attention Guidance (Ahn et al. 2024), alone or with CFG, in diffusers' convention and
 * batch order [uncond, cond, perturbed]. The perturbed pass is the cond pass with the chosen
 * self-attention maps replaced by the identity (a model-side change); this object only asks for
 * it and combines. Steps where s_t is 0 skip the perturbed pass: its term would vanish.
 */
export function perturbedAttentionGuidance(
  options: PerturbedAttentionGuidanceOptions,
): PerturbedAttentionGuidance {
  const pagScale = checkScale(NAME, 'pagScale', options.pagScale);
  const pagAdaptiveScale = checkScale(NAME, 'pagAdaptiveScale', options.pagAdaptiveScale ?? 0);
  const guidanceScale = checkScale(NAME, 'guidanceScale', options.guidanceScale ?? 1);
  const guidanceRescale = checkScale(NAME, 'guidanceRescale', options.guidanceRescale ?? 0, { max: 1 });
  const cfg = guidanceScale > 1;

  const pagScaleAt = (timestep: number): number => {
    if (pagAdaptiveScale === 0 || pagScale === 0) return pagScale;
    return Math.max(pagScale - pagAdaptiveScale * (1000 - timestep), 0);
  };

  return {
    name: NAME,
    pagScale,
    pagAdaptiveScale,
    guidanceScale,
    guidanceRescale,
    pagScaleAt,
    passes(ctx: GuidanceContext): readonly GuidancePass[] {
      const passes: GuidancePass[] = cfg ? ['uncond', 'cond'] : ['cond'];
      if (pagScaleAt(ctx.timestep) > 0) passes.push('perturbed');
      return passes;
    },
    combine(outputs: PassOutputs, ctx: GuidanceContext): Tensor {
      const s = pagScaleAt(ctx.timestep);
      if (!cfg && s === 0) return condPassThrough(outputs, NAME);
      const cond = requirePass(outputs, 'cond', NAME);
      // u + w·(c − u) + s·(c − p) = (1 − w)·u + (w + s)·c − s·p, one fused pass.
      const terms: LinearTerm[] = [];
      if (cfg) terms.push([1 - guidanceScale, requirePass(outputs, 'uncond', NAME)]);
      terms.push([(cfg ? guidanceScale : 1) + s, cond]);
      if (s > 0) terms.push([-s, requirePass(outputs, 'perturbed', NAME)]);
      const guided = linearCombination(terms);
      if (!cfg || guidanceRescale === 0) return guided;
      const rescaled = rescaleNoiseCfg(guided, cond, guidanceRescale);
      disposeAll(guided);
      return rescaled;
    },
  };
}
