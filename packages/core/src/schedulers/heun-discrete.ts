import { InvalidArgumentError, UnsupportedOptionError } from '../errors';
import { type Tensor, clip } from '../tensor/index';
import { type NoiseScheduleConfig, makeAlphasCumprod } from './betas';
import { type ParseConfigOptions, parseConfig, toSnakeConfig } from './config';
import type { LinearStepForm, PredictionType, Scheduler, StepOutput } from './scheduler';
import { sigmaDenoiser, sigmaDerivative } from './sigma-prediction';
import { type SigmaRespacing, discreteSigmaSchedule, sigmaRespacing, sigmaTable } from './sigma-schedule';
import {
  CLIP_SAMPLE_KEYS,
  type ClipSampleConfig,
  type KeySpecs,
  NOISE_SCHEDULE_KEYS,
  PREDICTION_TYPE_KEY,
  TIMESTEP_KEYS,
  type TimestepConfig,
} from './shared-config';
import { SigmaSpaceScheduler } from './sigma-space-scheduler';
import { denoise, derivative } from './step-ops';
import { TwoStageStep, twice } from './two-stage';

const F = Math.fround;

export interface HeunDiscreteSchedulerConfig
  extends Omit<NoiseScheduleConfig, 'rescaleBetasZeroSnr'>,
    TimestepConfig,
    ClipSampleConfig {
  predictionType: PredictionType;
  useKarrasSigmas: boolean;
  useExponentialSigmas: boolean;
  useBetaSigmas: boolean;
}

/** diffusers' defaults; note the SD-style betas. Heun has no zero-SNR option there. */
export const HEUN_DISCRETE_DEFAULTS: HeunDiscreteSchedulerConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.00085,
  betaEnd: 0.012,
  betaSchedule: 'linear',
  trainedBetas: null,
  predictionType: 'epsilon',
  useKarrasSigmas: false,
  useExponentialSigmas: false,
  useBetaSigmas: false,
  clipSample: false,
  clipSampleRange: 1.0,
  timestepSpacing: 'linspace',
  stepsOffset: 0,
};

const { rescaleBetasZeroSnr: _, ...SCHEDULE_KEYS } = NOISE_SCHEDULE_KEYS;

export const HEUN_DISCRETE_KEYS: KeySpecs<HeunDiscreteSchedulerConfig> = {
  ...SCHEDULE_KEYS,
  ...TIMESTEP_KEYS,
  ...CLIP_SAMPLE_KEYS,
  predictionType: PREDICTION_TYPE_KEY,
  useKarrasSigmas: { type: 'boolean' },
  useExponentialSigmas: { type: 'boolean' },
  useBetaSigmas: { type: 'boolean' },
};

/** The stage's σ (denoising level and divisor of d = (x − x0)/σ = dx·x + dout·out) and dt. */
interface StageCoefficients {
  sigma: number;
  dx: number;
  dout: number;
  dt: number;
}

/**
 * Heun's second-order method in sigma space (Karras et al. 2022, Algorithm 1 without
 * churn), with diffusers' HeunDiscreteScheduler semantics: each interval takes two
 * step() calls at doubled timesteps (an Euler predictor, then the trapezoidal corrector),
 * and the last interval, which ends at σ = 0, is a single Euler step.
 */
export class HeunDiscreteScheduler extends SigmaSpaceScheduler implements Scheduler {
  readonly className: string = 'HeunDiscreteScheduler';
  readonly config: Readonly<HeunDiscreteSchedulerConfig>;
  readonly alphasCumprod: Float32Array;
  readonly order = 2;
  readonly #table: Float32Array;
  readonly #respacing: SigmaRespacing;
  readonly #stage = new TwoStageStep();

  constructor(config: Partial<HeunDiscreteSchedulerConfig> = {}) {
    super();
    this.config = { ...HEUN_DISCRETE_DEFAULTS, ...config };
    this.#respacing = sigmaRespacing(this.config, this.className);
    this.alphasCumprod = makeAlphasCumprod({ ...this.config, rescaleBetasZeroSnr: false });
    this.#table = sigmaTable(this.alphasCumprod);
    this.setTimesteps(this.config.numTrainTimesteps);
  }

  /** Reads diffusers' `scheduler_config.json` (snake_case) as is. */
  static fromConfig(
    json: Record<string, unknown>,
    options?: Partial<ParseConfigOptions>,
  ): HeunDiscreteScheduler {
    return new HeunDiscreteScheduler(
      parseConfig(json, HEUN_DISCRETE_DEFAULTS, HEUN_DISCRETE_KEYS, {
        source: 'HeunDiscreteScheduler',
        ...options,
      }),
    );
  }

  /** True when the next step() is an interval's first (Euler) stage. */
  get stateInFirstOrder(): boolean {
    return !this.#stage.pending;
  }

  setTimesteps(numInferenceSteps: number): void {
    const schedule = discreteSigmaSchedule(this.#table, numInferenceSteps, {
      ...this.config,
      respacing: this.#respacing,
      finalSigmasType: 'zero',
    });
    const { timesteps, sigmas } = schedule;
    this.timesteps = [timesteps[0] as number, ...twice(timesteps.slice(1))];
    this.sigmas = [sigmas[0] as number, ...twice(sigmas.slice(1, -1)), sigmas[sigmas.length - 1] as number];
    this.numInferenceSteps = numInferenceSteps;
    this.index.reset();
    this.#stage.reset();
  }

  /**
   * First stage at call i: from σ_i to σ_{i+1}, derivative at σ_i. Second stage: the
   * derivative at the predicted point, σ_next = sigmas[i], over the first stage's dt.
   */
  #coefficients(index: number): StageCoefficients {
    const type = this.config.predictionType;
    const pending = this.#stage.pending;
    if (pending) {
      const sigmaNext = this.sigmas[index] as number;
      return {
        sigma: sigmaNext,
        ...sigmaDerivative(sigmaDenoiser(type, sigmaNext), sigmaNext),
        dt: pending.dt,
      };
    }
    const sigma = this.sigmas[index] as number;
    const next = this.sigmas[index + 1];
    if (next === undefined) {
      throw new InvalidArgumentError(
        `${this.className}: step index ${index} is past the last of ${this.timesteps.length} step() calls; call setTimesteps() to start a new loop`,
      );
    }
    return { sigma, ...sigmaDerivative(sigmaDenoiser(type, sigma), sigma), dt: F(next - sigma) };
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor): StepOutput {
    const index = this.index.resolve(timestep, this.timesteps, this.className);
    const c = this.#coefficients(index);
    let x0 = denoise(this.config.predictionType, sample, modelOutput, c.sigma);
    if (this.config.clipSample) {
      const raw = x0;
      x0 = clip(raw, -this.config.clipSampleRange, this.config.clipSampleRange);
      raw.dispose();
    }
    const d = derivative(sample, x0, c.sigma);
    // No corrector can follow a step that lands on σ = 0: that interval stays first order.
    const prevSample = this.#stage.pending
      ? this.#stage.correct(d)
      : this.#stage.predict(sample, d, c.dt, c, this.sigmas[index + 1] !== 0);
    d.dispose();
    this.index.advance();
    return { prevSample, predOriginalSample: x0 };
  }

  linearForm(timestep: number): LinearStepForm {
    if (this.config.clipSample) {
      throw new UnsupportedOptionError('clip_sample', true, [false], {
        context: `${this.className}.linearForm: clipping x0 makes the step non-linear`,
      });
    }
    const c = this.#coefficients(this.index.peek(timestep, this.timesteps, this.className));
    return this.#stage.linearForm(c, c.dt);
  }

  clone(): HeunDiscreteScheduler {
    return new HeunDiscreteScheduler(this.config);
  }

  toConfig(): Record<string, unknown> {
    return toSnakeConfig(this.className, this.config);
  }
}
