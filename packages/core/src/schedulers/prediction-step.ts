import { UnsupportedOptionError } from '../errors';
import { type Tensor, clip, linearCombination } from '../tensor/index';
import type { PredictionCoefficients } from './prediction';
import type { StepOutput } from './scheduler';
import { type ClipSampleConfig, THRESHOLDING_DEFAULTS, type ThresholdingConfig } from './shared-config';
import { dynamicThreshold } from './thresholding';

/** How a scheduler may clip its predicted x0; schedulers without one of the options omit its keys. */
export type X0ClippingConfig = Partial<ThresholdingConfig> & Partial<ClipSampleConfig>;

export const clipsX0 = (config: X0ClippingConfig): boolean =>
  config.thresholding === true || config.clipSample === true;

/** Clips a predicted x0 (a new tensor): dynamic thresholding takes precedence over clip_sample, as in diffusers. */
export function clipX0(x0: Tensor, config: X0ClippingConfig): Tensor {
  if (config.thresholding) {
    return dynamicThreshold(
      x0,
      config.dynamicThresholdingRatio ?? THRESHOLDING_DEFAULTS.dynamicThresholdingRatio,
      config.sampleMaxValue ?? THRESHOLDING_DEFAULTS.sampleMaxValue,
    );
  }
  const range = config.clipSampleRange ?? 1;
  return clip(x0, -range, range);
}

/** Linear forms exist only while x0 is not clipped. */
export function assertX0NotClipped(config: X0ClippingConfig, className: string): void {
  if (clipsX0(config)) {
    throw new UnsupportedOptionError('clip_sample/thresholding', true, [false], {
      context: `${className}.linearForm: clipping x0 makes the step non-linear`,
    });
  }
}

/** A step written in terms of the predictions: x_next = x0·x̂0 + eps·ε̂ + sample·x. */
export interface StepMix {
  x0: number;
  eps: number;
  sample: number;
}

/** The step's coefficients on (x, model output) once x̂0 and ε̂ are expanded. */
export function mixCoefficients(p: PredictionCoefficients, mix: StepMix): { sample: number; output: number } {
  return {
    sample: mix.x0 * p.x0x + mix.eps * p.ex + mix.sample,
    output: mix.x0 * p.x0o + mix.eps * p.eo,
  };
}

/**
 * One DDIM/DDPM-style update. Unclipped, it is a single fused linear combination
 * of the sample and the model output; clipped, x̂0 is clipped while ε̂ stays
 * derived from the raw output, as diffusers does.
 */
export function predictionStep(
  modelOutput: Tensor,
  sample: Tensor,
  p: PredictionCoefficients,
  mix: StepMix,
  clipping: X0ClippingConfig,
): StepOutput {
  const raw = linearCombination([
    [p.x0x, sample],
    [p.x0o, modelOutput],
  ]);
  if (!clipsX0(clipping)) {
    const c = mixCoefficients(p, mix);
    const prevSample = linearCombination([
      [c.sample, sample],
      [c.output, modelOutput],
    ]);
    return { prevSample, predOriginalSample: raw };
  }
  const x0 = clipX0(raw, clipping);
  raw.dispose();
  const prevSample = linearCombination([
    [mix.x0, x0],
    [mix.eps * p.ex + mix.sample, sample],
    [mix.eps * p.eo, modelOutput],
  ]);
  return { prevSample, predOriginalSample: x0 };
}
