import { InvalidArgumentError, UnsupportedOptionError } from '../errors';
import { type Tensor, disposeAll, mul } from '../tensor/index';
import { type NoiseScheduleConfig, makeAlphasCumprod } from './betas';
import { type ParseConfigOptions, parseConfig, toSnakeConfig } from './config';
import { DefaultNoiseStream, noiseLike } from './noise';
import type { LinearStepForm, PredictionType, Scheduler, StepOptions, StepOutput } from './scheduler';
import { sigmaDenoiser, sigmaDerivative } from './sigma-prediction';
import {
  FINAL_SIGMAS_TYPES,
  type FinalSigmasType,
  type SigmaRespacing,
  discreteSigmaSchedule,
  sigmaRespacing,
  sigmaTable,
} from './sigma-schedule';
import {
  type KeySpecs,
  NOISE_SCHEDULE_DEFAULTS,
  NOISE_SCHEDULE_KEYS,
  PREDICTION_TYPE_KEY,
  TIMESTEP_KEYS,
  type TimestepConfig,
} from './shared-config';
import { SigmaSpaceScheduler } from './sigma-space-scheduler';
import { addScaled, denoise, derivative } from './step-ops';

const F = Math.fround;

export interface EulerDiscreteSchedulerConfig extends NoiseScheduleConfig, TimestepConfig {
  predictionType: PredictionType;
  interpolationType: 'linear' | 'log_linear';
  useKarrasSigmas: boolean;
  useExponentialSigmas: boolean;
  useBetaSigmas: boolean;
  /** Ends of the Karras/exponential range; null takes them from the schedule. */
  sigmaMin: number | null;
  sigmaMax: number | null;
  timestepType: 'discrete' | 'continuous';
  finalSigmasType: FinalSigmasType;
}

export const EULER_DISCRETE_DEFAULTS: EulerDiscreteSchedulerConfig = {
  ...NOISE_SCHEDULE_DEFAULTS,
  predictionType: 'epsilon',
  interpolationType: 'linear',
  useKarrasSigmas: false,
  useExponentialSigmas: false,
  useBetaSigmas: false,
  sigmaMin: null,
  sigmaMax: null,
  timestepSpacing: 'linspace',
  timestepType: 'discrete',
  stepsOffset: 0,
  finalSigmasType: 'zero',
};

export const EULER_DISCRETE_KEYS: KeySpecs<EulerDiscreteSchedulerConfig> = {
  ...NOISE_SCHEDULE_KEYS,
  ...TIMESTEP_KEYS,
  predictionType: PREDICTION_TYPE_KEY,
  interpolationType: { type: 'enum', values: ['linear', 'log_linear'] },
  useKarrasSigmas: { type: 'boolean' },
  useExponentialSigmas: { type: 'boolean' },
  useBetaSigmas: { type: 'boolean' },
  sigmaMin: { type: 'number', min: 0, nullable: true },
  sigmaMax: { type: 'number', min: 0, nullable: true },
  timestepType: { type: 'enum', values: ['discrete', 'continuous'] },
  finalSigmasType: { type: 'enum', values: FINAL_SIGMAS_TYPES },
};

/** Karras et al.'s "churn": extra noise injected before a step, for sigma in [sTmin, sTmax]. */
export interface ChurnOptions {
  /** Amount of churn; 0 (default) is the deterministic Euler step. */
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  /** Scale of the injected noise. */
  sNoise?: number;
}

export interface EulerStepOptions extends StepOptions, ChurnOptions {}

/** Zero-SNR rescaling leaves ᾱ_T = 0 (infinite sigma); diffusers pins it to 2^-24 instead. */
const ZERO_SNR_FLOOR = 2 ** -24;

/** The Euler step's scalars, and its linear form x_next = sample·x + output·out + sample·churn·z. */
interface EulerCoefficients {
  /** σ raised by churn; σ without it. */
  sigmaHat: number;
  /** The level the model output is denoised at: diffusers uses σ̂ for epsilon but σ for v. */
  denoiseSigma: number;
  dt: number;
  /** √(σ̂² − σ²) and s_noise: the churn noise added to x is sNoise·std·z (0 without churn). */
  churnStd: number;
  sNoise: number;
  sample: number;
  output: number;
}

/**
 * Euler's method on the probability-flow ODE in sigma space (Karras et al. 2022,
 * Algorithm 2), with diffusers' EulerDiscreteScheduler semantics: fractional timesteps,
 * interpolated sigmas, a step index advanced by each step().
 */
export class EulerDiscreteScheduler extends SigmaSpaceScheduler implements Scheduler {
  readonly className: string = 'EulerDiscreteScheduler';
  readonly config: Readonly<EulerDiscreteSchedulerConfig>;
  readonly alphasCumprod: Float32Array;
  readonly order = 1;
  readonly #table: Float32Array;
  readonly #respacing: SigmaRespacing;
  readonly #noise = new DefaultNoiseStream();

  constructor(config: Partial<EulerDiscreteSchedulerConfig> = {}) {
    super();
    this.config = { ...EULER_DISCRETE_DEFAULTS, ...config };
    if (this.config.interpolationType !== 'linear') {
      throw new UnsupportedOptionError('interpolation_type', this.config.interpolationType, ['linear'], {
        context: this.className,
      });
    }
    this.#respacing = sigmaRespacing(this.config, this.className);
    this.alphasCumprod = makeAlphasCumprod(this.config);
    if (this.config.rescaleBetasZeroSnr) this.alphasCumprod[this.alphasCumprod.length - 1] = ZERO_SNR_FLOOR;
    this.#table = sigmaTable(this.alphasCumprod);
    // Before setTimesteps: every train timestep, as diffusers initialises it.
    this.sigmas = [...Array.from(this.#table).reverse(), 0];
    this.timesteps = this.#timestepsFor(
      Array.from({ length: this.config.numTrainTimesteps }, (_, i) => this.config.numTrainTimesteps - 1 - i),
      this.sigmas,
    );
  }

  /** Reads diffusers' `scheduler_config.json` (snake_case) as is. */
  static fromConfig(
    json: Record<string, unknown>,
    options?: Partial<ParseConfigOptions>,
  ): EulerDiscreteScheduler {
    return new EulerDiscreteScheduler(
      parseConfig(json, EULER_DISCRETE_DEFAULTS, EULER_DISCRETE_KEYS, {
        source: 'EulerDiscreteScheduler',
        ...options,
      }),
    );
  }

  setTimesteps(numInferenceSteps: number): void {
    const { timesteps, sigmas } = discreteSigmaSchedule(this.#table, numInferenceSteps, {
      ...this.config,
      respacing: this.#respacing,
    });
    this.sigmas = sigmas;
    this.timesteps = this.#timestepsFor(timesteps, sigmas);
    this.numInferenceSteps = numInferenceSteps;
    this.index.reset();
  }

  /** v-prediction models trained on continuous time take 0.25·log σ as their timestep. */
  #timestepsFor(discrete: number[], sigmas: readonly number[]): number[] {
    if (this.config.timestepType === 'continuous' && this.config.predictionType === 'v_prediction') {
      return sigmas.slice(0, -1).map((s) => F(Math.log(s)) * 0.25);
    }
    return discrete.map(F);
  }

  #coefficients(index: number, options: ChurnOptions): EulerCoefficients {
    const sigma = this.sigmas[index] as number;
    const next = this.sigmas[index + 1];
    if (next === undefined) {
      throw new InvalidArgumentError(
        `${this.className}: step index ${index} is past the last of ${this.sigmas.length - 1} steps; call setTimesteps() to start a new loop`,
      );
    }
    const { sChurn = 0, sTmin = 0, sTmax = Number.POSITIVE_INFINITY, sNoise = 1 } = options;
    const gamma =
      sTmin <= sigma && sigma <= sTmax ? Math.min(sChurn / (this.sigmas.length - 1), Math.SQRT2 - 1) : 0;
    const sigmaHat = F(sigma * F(gamma + 1));
    const churnStd = gamma > 0 ? F(Math.sqrt(F(F(sigmaHat * sigmaHat) - F(sigma * sigma)))) : 0;
    const type = this.config.predictionType;
    const denoiseSigma = type === 'epsilon' ? sigmaHat : sigma;
    const d = sigmaDerivative(sigmaDenoiser(type, denoiseSigma), sigmaHat);
    const dt = F(next - sigmaHat);
    return {
      sigmaHat,
      denoiseSigma,
      dt,
      churnStd,
      sNoise: F(sNoise),
      sample: 1 + d.dx * dt,
      output: d.dout * dt,
    };
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: EulerStepOptions = {}): StepOutput {
    const index = this.index.resolve(timestep, this.timesteps, this.className);
    const c = this.#coefficients(index, options);
    let churned: Tensor | undefined;
    if (c.churnStd > 0) {
      const noise = noiseLike(modelOutput, this.#noise.pick(options.generator));
      const eps = mul(noise, c.sNoise);
      churned = addScaled(sample, eps, c.churnStd);
      disposeAll(noise, eps);
    }
    const x = churned ?? sample;
    const predOriginalSample = denoise(this.config.predictionType, x, modelOutput, c.denoiseSigma);
    const d = derivative(x, predOriginalSample, c.sigmaHat);
    const prevSample = addScaled(x, d, c.dt);
    disposeAll(d, churned);
    this.index.advance();
    return { prevSample, predOriginalSample };
  }

  /** The next step's linear form; with churn, `noise` is the coefficient of the fresh N(0, I) draw. */
  linearForm(timestep: number, options: Omit<EulerStepOptions, 'generator'> = {}): LinearStepForm {
    const c = this.#coefficients(this.index.peek(timestep, this.timesteps, this.className), options);
    return c.churnStd > 0
      ? { sample: c.sample, output: c.output, noise: c.sample * c.sNoise * c.churnStd }
      : { sample: c.sample, output: c.output };
  }

  clone(): EulerDiscreteScheduler {
    return new EulerDiscreteScheduler(this.config);
  }

  toConfig(): Record<string, unknown> {
    return toSnakeConfig(this.className, this.config);
  }
}
