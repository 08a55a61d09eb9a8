import { ShapeMismatchError } from '../errors';
import { concat, disposeAll, div, linearCombination, mul, sliceAxis, std } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import type { Guidance, GuidanceContext, GuidancePass, PassOutputs } from './guidance';
import { condPassThrough } from './no-guidance';
import { checkCount, checkScale } from './options';
import { requirePass } from './passes';

const NAME = 'classifierFreeGuidance';
const WITH_UNCOND: readonly GuidancePass[] = Object.freeze(['uncond', 'cond']);
const COND_ONLY: readonly GuidancePass[] = Object.freeze(['cond']);

export interface ClassifierFreeGuidanceOptions {
  /**
   * w in out = u + w·(c − u) (diffusers' convention; the NoiseRefine paper writes c + w'·(c − u)
   * with w' = w − 1). Guidance is on iff w > 1; otherwise only the cond pass runs.
   */
  guidanceScale: number;
  /** φ of guidance rescale, in [0, 1]; 0 (the default) turns it off. */
  guidanceRescale?: number;
  /**
   * Guide only the first `channels` channels (axis 1). The remaining channels are the cond
   * output's, unguided: DiT/SiT's `forward_with_cfg` guides channels [0, 3) and concatenates the
   * model output's other channels per half of the batch, and their samplers keep the cond half.
   * Pass 3 to reproduce DiT/SiT samples; leave unset for standard CFG over all channels.
   */
  channels?: number;
}

export interface ClassifierFreeGuidance extends Guidance {
  readonly guidanceScale: number;
  readonly guidanceRescale: number;
  readonly channels: number | undefined;
  /** Whether the step needs the uncond pass (w > 1). */
  readonly enabled: boolean;
}

/** Classifier-free guidance (Ho & Salimans 2022) with diffusers' semantics, batch [uncond, cond]. */
export function classifierFreeGuidance(options: ClassifierFreeGuidanceOptions): ClassifierFreeGuidance {
  const guidanceScale = checkScale(NAME, 'guidanceScale', options.guidanceScale);
  const guidanceRescale = checkScale(NAME, 'guidanceRescale', options.guidanceRescale ?? 0, { max: 1 });
  const channels =
    options.channels === undefined ? undefined : checkCount(NAME, 'channels', options.channels);
  const enabled = guidanceScale > 1;
  return {
    name: NAME,
    guidanceScale,
    guidanceRescale,
    channels,
    enabled,
    passes: (_ctx: GuidanceContext) => (enabled ? WITH_UNCOND : COND_ONLY),
    combine(outputs: PassOutputs): Tensor {
      if (!enabled) return condPassThrough(outputs, NAME);
      const uncond = requirePass(outputs, 'uncond', NAME);
      const cond = requirePass(outputs, 'cond', NAME);
      const guided =
        channels === undefined
          ? guideAll(uncond, cond, guidanceScale)
          : guideChannels(uncond, cond, guidanceScale, channels);
      if (guidanceRescale === 0) return guided;
      const rescaled = rescaleNoiseCfg(guided, cond, guidanceRescale);
      guided.dispose();
      return rescaled;
    },
  };
}

/** u + w·(c − u), as one fused pass (1 − w)·u + w·c. */
function guideAll(uncond: Tensor, cond: Tensor, guidanceScale: number): Tensor {
  return linearCombination([
    [1 - guidanceScale, uncond],
    [guidanceScale, cond],
  ]);
}

function guideChannels(uncond: Tensor, cond: Tensor, guidanceScale: number, channels: number): Tensor {
  const total = cond.shape[1];
  if (total === undefined || channels > total) {
    throw new ShapeMismatchError(
      `${NAME}: guiding the first ${channels} channels needs outputs with at least ${channels} channels on axis 1`,
      `[B, ≥${channels}, …]`,
      cond.shape,
    );
  }
  if (channels === total) return guideAll(uncond, cond, guidanceScale);
  const u = sliceAxis(uncond, 1, 0, channels);
  const c = sliceAxis(cond, 1, 0, channels);
  const guided = guideAll(u, c, guidanceScale);
  const rest = sliceAxis(cond, 1, channels, total);
  const out = concat([guided, rest], 1);
  disposeAll(u, c, guided, rest);
  return out;
}

/**
 * Guidance rescale (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are
 * Flawed", §3.4), as diffusers' `rescale_noise_cfg`: per sample, the guided output is scaled to
 * the standard deviation of the cond output (unbiased, over all non-batch dims), then blended:
 * φ·cfg·std(c)/std(cfg) + (1 − φ)·cfg. Counters the over-exposure of large guidance scales.
 */
export function rescaleNoiseCfg(noiseCfg: Tensor, noisePredText: Tensor, guidanceRescale: number): Tensor {
  if (noiseCfg.shape.length < 2) {
    throw new ShapeMismatchError('rescaleNoiseCfg: outputs need a batch axis and data axes', '[B, …]', [
      ...noiseCfg.shape,
    ]);
  }
  const axes = noiseCfg.shape.slice(1).map((_, i) => i + 1);
  const stdText = std(noisePredText, axes, true, true);
  const stdCfg = std(noiseCfg, axes, true, true);
  const ratio = div(stdText, stdCfg);
  const rescaled = mul(noiseCfg, ratio);
  const out = linearCombination([
    [guidanceRescale, rescaled],
    [1 - guidanceRescale, noiseCfg],
  ]);
  disposeAll(stdText, stdCfg, ratio, rescaled);
  return out;
}
