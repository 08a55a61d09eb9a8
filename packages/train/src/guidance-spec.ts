import {
  classifierFreeGuidance,
  type Guidance,
  InvalidArgumentError,
  perturbedAttentionGuidance,
} from '@noiserefine/core';

/** The guidance the targets are sampled with (paper: CFG for SiT, CFG 7 + PAG 3 for SD). */
export interface TargetGuidance {
  /** CFG's w; on iff > 1. */
  guidanceScale: number;
  /** PAG's s; on iff > 0. Needs the perturbed-attention denoiser. */
  pagScale: number;
  /** PAG's layer patterns (default: the transform's choice, 'mid' or 'blocks.1'). */
  pagLayers?: readonly string[];
}

export function usesPerturbedAttention(guidance: TargetGuidance): boolean {
  return guidance.pagScale > 0;
}

/** The core guidance object for a target spec; rejects a spec that guides nothing. */
export function makeTargetGuidance(guidance: TargetGuidance, cfgChannels?: number): Guidance {
  const { guidanceScale, pagScale } = guidance;
  if (!Number.isFinite(guidanceScale) || !Number.isFinite(pagScale) || pagScale < 0 || guidanceScale < 0) {
    throw new InvalidArgumentError(
      `target guidance: expected finite non-negative scales, got guidanceScale ${guidanceScale} and pagScale ${pagScale}`,
    );
  }
  if (guidanceScale <= 1 && pagScale === 0) {
    throw new InvalidArgumentError(
      `target guidance: expected CFG (guidanceScale > 1) and/or PAG (pagScale > 0) to distil, got guidanceScale ${guidanceScale} and pagScale ${pagScale}`,
    );
  }
  if (pagScale > 0)
    return perturbedAttentionGuidance({ pagScale, guidanceScale: Math.max(1, guidanceScale) });
  return classifierFreeGuidance({ guidanceScale, channels: cfgChannels });
}
