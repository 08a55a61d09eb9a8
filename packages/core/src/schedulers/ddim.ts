import type { Tensor } from '../tensor/index';
import { AlphaScheduler } from './alpha-scheduler';
import type { NoiseScheduleConfig } from './betas';
import { type ParseConfigOptions, parseConfig } from './config';
import { DefaultNoiseStream, addScaledNoise, noiseLike } from './noise';
import { predictionCoefficients } from './prediction';
import { assertX0NotClipped, mixCoefficients, predictionStep } from './prediction-step';
import type { LinearStepForm, PredictionType, Scheduler, StepOptions, StepOutput } from './scheduler';
import {
  CLIP_SAMPLE_KEYS,
  type ClipSampleConfig,
  type KeySpecs,
  NOISE_SCHEDULE_DEFAULTS,
  NOISE_SCHEDULE_KEYS,
  PREDICTION_TYPE_KEY,
  THRESHOLDING_DEFAULTS,
  THRESHOLDING_KEYS,
  type ThresholdingConfig,
  TIMESTEP_KEYS,
  type TimestepConfig,
} from './shared-config';

const F = Math.fround;

export interface DDIMSchedulerConfig
  extends NoiseScheduleConfig,
    TimestepConfig,
    ThresholdingConfig,
    ClipSampleConfig {
  setAlphaToOne: boolean;
  predictionType: PredictionType;
}

export const DDIM_DEFAULTS: DDIMSchedulerConfig = {
  ...NOISE_SCHEDULE_DEFAULTS,
  ...THRESHOLDING_DEFAULTS,
  clipSample: true,
  clipSampleRange: 1.0,
  setAlphaToOne: true,
  stepsOffset: 0,
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
};

export const DDIM_KEYS: KeySpecs<DDIMSchedulerConfig> = {
  ...NOISE_SCHEDULE_KEYS,
  ...TIMESTEP_KEYS,
  ...THRESHOLDING_KEYS,
  ...CLIP_SAMPLE_KEYS,
  setAlphaToOne: { type: 'boolean' },
  predictionType: PREDICTION_TYPE_KEY,
};

/** Denoising Diffusion Implicit Models (Song et al. 2021), with diffusers' semantics. */
export class DDIMScheduler extends AlphaScheduler<DDIMSchedulerConfig> implements Scheduler {
  readonly className: string = 'DDIMScheduler';
  readonly finalAlphaCumprod: number;
  readonly #noise = new DefaultNoiseStream();

  constructor(config: Partial<DDIMSchedulerConfig> = {}) {
    super({ ...DDIM_DEFAULTS, ...config });
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : (this.alphasCumprod[0] as number);
  }

  /** Reads diffusers' `scheduler_config.json` (snake_case) as is. */
  static fromConfig(json: Record<string, unknown>, options?: Partial<ParseConfigOptions>): DDIMScheduler {
    return new DDIMScheduler(
      parseConfig(json, DDIM_DEFAULTS, DDIM_KEYS, { source: 'DDIMScheduler', ...options }),
    );
  }

  protected override alphaBeforeStart(): number {
    return this.finalAlphaCumprod;
  }

  /** DDIM always steps back by N div n, whatever the spacing. */
  previousTimestep(timestep: number): number {
    this.assertTimesteps();
    return timestep - Math.floor(this.config.numTrainTimesteps / this.numInferenceSteps);
  }

  /** The step's scalars: x_prev = √a_prev·x0 + dir·ε (+ std·z). */
  #coefficients(timestep: number, eta: number) {
    const a = this.alphaAt(timestep);
    const aPrev = this.alphaAt(this.previousTimestep(timestep));
    const variance = F(F(F(1 - aPrev) / F(1 - a)) * F(1 - F(a / aPrev)));
    const std = F(eta * F(Math.sqrt(variance)));
    const dir = F(Math.sqrt(F(F(1 - aPrev) - F(std * std))));
    return { a, sqrtAPrev: F(Math.sqrt(aPrev)), dir, std };
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: StepOptions = {}): StepOutput {
    const eta = options.eta ?? 0;
    const { a, sqrtAPrev, dir, std } = this.#coefficients(timestep, eta);
    const p = predictionCoefficients(this.config.predictionType, a);
    const out = predictionStep(modelOutput, sample, p, { x0: sqrtAPrev, eps: dir, sample: 0 }, this.config);
    if (eta > 0 && std > 0) {
      const noise = noiseLike(modelOutput, this.#noise.pick(options.generator));
      out.prevSample = addScaledNoise(out.prevSample, std, noise);
    }
    return out;
  }

  linearForm(timestep: number, options: { eta?: number } = {}): LinearStepForm {
    assertX0NotClipped(this.config, this.className);
    const { a, sqrtAPrev, dir, std } = this.#coefficients(timestep, options.eta ?? 0);
    const p = predictionCoefficients(this.config.predictionType, a);
    return { ...mixCoefficients(p, { x0: sqrtAPrev, eps: dir, sample: 0 }), noise: std };
  }

  clone(): DDIMScheduler {
    return new DDIMScheduler(this.config);
  }
}
