import { UnsupportedOptionError } from '../errors';
import type { Tensor } from '../tensor/index';
import { AlphaScheduler } from './alpha-scheduler';
import type { NoiseScheduleConfig } from './betas';
import { type ParseConfigOptions, parseConfig } from './config';
import { predictionCoefficients } from './prediction';
import { type StepMix, assertX0NotClipped, mixCoefficients, predictionStep } from './prediction-step';
import type { LinearStepForm, PredictionType, Scheduler, StepOutput } from './scheduler';
import {
  CLIP_SAMPLE_KEYS,
  type ClipSampleConfig,
  type KeySpecs,
  NOISE_SCHEDULE_DEFAULTS,
  NOISE_SCHEDULE_KEYS,
  PREDICTION_TYPE_KEY,
  TIMESTEP_KEYS,
  type TimestepConfig,
} from './shared-config';

const F = Math.fround;

export interface DDIMInverseSchedulerConfig extends NoiseScheduleConfig, TimestepConfig, ClipSampleConfig {
  /** Whether the source level of the first step (below t = 0) is alpha 1 or alphas_cumprod[0]. */
  setAlphaToOne: boolean;
  predictionType: PredictionType;
}

export const DDIM_INVERSE_DEFAULTS: DDIMInverseSchedulerConfig = {
  ...NOISE_SCHEDULE_DEFAULTS,
  clipSample: true,
  clipSampleRange: 1.0,
  setAlphaToOne: true,
  stepsOffset: 0,
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
};

export const DDIM_INVERSE_KEYS: KeySpecs<DDIMInverseSchedulerConfig> = {
  ...NOISE_SCHEDULE_KEYS,
  ...TIMESTEP_KEYS,
  ...CLIP_SAMPLE_KEYS,
  setAlphaToOne: { type: 'boolean' },
  predictionType: PREDICTION_TYPE_KEY,
};

/**
 * DDIM inversion (deterministic DDIM run from data towards noise), with diffusers'
 * semantics: timesteps ascend, and the step at grid value t moves the sample from
 * the level of t − N div n (alpha 1 or alphas_cumprod[0] below 0) to the level of t,
 * evaluating the model at t. With the model output held fixed it undoes DDIM's step at t.
 */
export class DDIMInverseScheduler extends AlphaScheduler<DDIMInverseSchedulerConfig> implements Scheduler {
  readonly className: string = 'DDIMInverseScheduler';
  readonly initialAlphaCumprod: number;

  constructor(config: Partial<DDIMInverseSchedulerConfig> = {}) {
    super({ ...DDIM_INVERSE_DEFAULTS, ...config });
    this.initialAlphaCumprod = this.config.setAlphaToOne ? 1 : (this.alphasCumprod[0] as number);
    this.timesteps.reverse();
  }

  /**
   * Reads diffusers' `scheduler_config.json` (snake_case) as is, including the
   * deprecated `set_alpha_to_zero` spelling of `set_alpha_to_one`.
   */
  static fromConfig(
    json: Record<string, unknown>,
    options?: Partial<ParseConfigOptions>,
  ): DDIMInverseScheduler {
    const { set_alpha_to_zero: legacy, ...rest } = json;
    const normalized =
      legacy !== undefined && rest.set_alpha_to_one === undefined
        ? { ...rest, set_alpha_to_one: legacy }
        : rest;
    return new DDIMInverseScheduler(
      parseConfig(normalized, DDIM_INVERSE_DEFAULTS, DDIM_INVERSE_KEYS, {
        source: 'DDIMInverseScheduler',
        ...options,
      }),
    );
  }

  /** Ascending timesteps: leading (i·(N div n) + offset) or trailing; diffusers has no linspace here. */
  override setTimesteps(numInferenceSteps: number): void {
    if (this.config.timestepSpacing === 'linspace') {
      throw new UnsupportedOptionError('timestep_spacing', 'linspace', ['leading', 'trailing'], {
        context: this.className,
      });
    }
    super.setTimesteps(numInferenceSteps);
    this.timesteps.reverse();
  }

  /** The first step starts below t = 0: from alpha 1, or alphas_cumprod[0] without set_alpha_to_one. */
  protected override alphaBeforeStart(): number {
    return this.initialAlphaCumprod;
  }

  /** The level the step at grid value t starts from: t − N div n, capped at N − 1. */
  sourceTimestep(timestep: number): number {
    const { numTrainTimesteps } = this.config;
    this.assertTimesteps();
    return Math.min(timestep - Math.floor(numTrainTimesteps / this.numInferenceSteps), numTrainTimesteps - 1);
  }

  #scalars(timestep: number): { a: number; mix: StepMix } {
    const a = this.alphaAt(this.sourceTimestep(timestep));
    const aTarget = this.alphaAt(timestep);
    return { a, mix: { x0: F(Math.sqrt(aTarget)), eps: F(Math.sqrt(F(1 - aTarget))), sample: 0 } };
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor): StepOutput {
    const { a, mix } = this.#scalars(timestep);
    return predictionStep(
      modelOutput,
      sample,
      predictionCoefficients(this.config.predictionType, a),
      mix,
      this.config,
    );
  }

  linearForm(timestep: number): LinearStepForm {
    assertX0NotClipped(this.config, this.className);
    const { a, mix } = this.#scalars(timestep);
    return { ...mixCoefficients(predictionCoefficients(this.config.predictionType, a), mix), noise: 0 };
  }

  clone(): DDIMInverseScheduler {
    return new DDIMInverseScheduler(this.config);
  }
}
