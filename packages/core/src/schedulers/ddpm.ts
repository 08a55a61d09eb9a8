import { InvalidArgumentError, ShapeMismatchError, UnsupportedOptionError } from '../errors';
import { type Tensor, disposeAll, exp, linearCombination, sliceAxis, sqrt } from '../tensor/index';
import { AlphaScheduler } from './alpha-scheduler';
import type { NoiseScheduleConfig } from './betas';
import { type ParseConfigOptions, parseConfig } from './config';
import { DefaultNoiseStream, addScaledNoise, noiseLike } from './noise';
import { predictionCoefficients } from './prediction';
import { type StepMix, assertX0NotClipped, mixCoefficients, predictionStep } from './prediction-step';
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

export type DDPMVarianceType =
  | 'fixed_small'
  | 'fixed_small_log'
  | 'fixed_large'
  | 'fixed_large_log'
  | 'learned'
  | 'learned_range';
export const DDPM_VARIANCE_TYPES: readonly DDPMVarianceType[] = [
  'fixed_small',
  'fixed_small_log',
  'fixed_large',
  'fixed_large_log',
  'learned',
  'learned_range',
];

export interface DDPMSchedulerConfig
  extends NoiseScheduleConfig,
    TimestepConfig,
    ThresholdingConfig,
    ClipSampleConfig {
  varianceType: DDPMVarianceType;
  predictionType: PredictionType;
}

export const DDPM_DEFAULTS: DDPMSchedulerConfig = {
  ...NOISE_SCHEDULE_DEFAULTS,
  ...THRESHOLDING_DEFAULTS,
  varianceType: 'fixed_small',
  clipSample: true,
  clipSampleRange: 1.0,
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
  stepsOffset: 0,
};

export const DDPM_KEYS: KeySpecs<DDPMSchedulerConfig> = {
  ...NOISE_SCHEDULE_KEYS,
  ...TIMESTEP_KEYS,
  ...THRESHOLDING_KEYS,
  ...CLIP_SAMPLE_KEYS,
  varianceType: { type: 'enum', values: DDPM_VARIANCE_TYPES },
  predictionType: PREDICTION_TYPE_KEY,
};

const LEARNED: readonly DDPMVarianceType[] = ['learned', 'learned_range'];

/**
 * Denoising Diffusion Probabilistic Models (Ho et al. 2020): ancestral sampling of
 * the posterior q(x_{t−1} | x_t, x0), with diffusers' semantics. Without
 * setTimesteps it walks all train timesteps, N − 1 down to 0.
 */
export class DDPMScheduler extends AlphaScheduler<DDPMSchedulerConfig> implements Scheduler {
  readonly className: string = 'DDPMScheduler';
  readonly #noise = new DefaultNoiseStream();

  constructor(config: Partial<DDPMSchedulerConfig> = {}) {
    super({ ...DDPM_DEFAULTS, ...config });
  }

  /** Reads diffusers' `scheduler_config.json` (snake_case) as is. */
  static fromConfig(json: Record<string, unknown>, options?: Partial<ParseConfigOptions>): DDPMScheduler {
    return new DDPMScheduler(
      parseConfig(json, DDPM_DEFAULTS, DDPM_KEYS, { source: 'DDPMScheduler', ...options }),
    );
  }

  /** The next entry of the schedule (−1 after the last); t − 1 before setTimesteps. */
  previousTimestep(timestep: number): number {
    if (this.numInferenceSteps === 0) return timestep - 1;
    const index = this.timesteps.indexOf(timestep);
    if (index < 0) {
      throw new InvalidArgumentError(
        `${this.className}: timestep ${timestep} is not in the current schedule; pass one of scheduler.timesteps`,
      );
    }
    return this.timesteps[index + 1] ?? -1;
  }

  /** Posterior scalars: mean = x0Coeff·x0 + sampleCoeff·x_t, and the fixed variances. */
  #posterior(timestep: number) {
    const a = this.alphaAt(timestep);
    const aPrev = this.alphaAt(this.previousTimestep(timestep));
    const betaProd = F(1 - a);
    const currentAlpha = F(a / aPrev);
    const currentBeta = F(1 - currentAlpha);
    const x0Coeff = F(F(F(Math.sqrt(aPrev)) * currentBeta) / betaProd);
    const sampleCoeff = F(F(F(Math.sqrt(currentAlpha)) * F(1 - aPrev)) / betaProd);
    // torch.clamp(min=1e-20) keeps the log finite at the last step.
    const variance = Math.max(F(F(F(1 - aPrev) / betaProd) * currentBeta), F(1e-20));
    return { a, currentBeta, variance, mix: { x0: x0Coeff, eps: 0, sample: sampleCoeff } as StepMix };
  }

  /**
   * Standard deviation of the noise added at t for the fixed variance types.
   * fixed_large_log is the log-space form of fixed_large (diffusers' step takes the
   * square root of the log there and produces NaN; we follow the intended variance).
   */
  noiseStd(timestep: number): number {
    const { variance, currentBeta } = this.#posterior(timestep);
    switch (this.config.varianceType) {
      case 'fixed_small':
        return F(Math.sqrt(variance));
      case 'fixed_small_log':
        return F(Math.exp(F(0.5 * F(Math.log(variance)))));
      case 'fixed_large':
        return F(Math.sqrt(currentBeta));
      case 'fixed_large_log':
        return F(Math.exp(F(0.5 * F(Math.log(currentBeta)))));
      default:
        throw new UnsupportedOptionError('variance_type', this.config.varianceType, DDPM_VARIANCE_TYPES, {
          context: `${this.className}: a learned variance comes from the model output, not the schedule`,
        });
    }
  }

  /**
   * Learned variances: the model output carries twice the sample's channels, the
   * second half being the variance (learned) or an interpolation weight in [−1, 1]
   * between the log of the small and the large fixed variance (learned_range).
   */
  #learnedStd(predictedVariance: Tensor, timestep: number): Tensor {
    if (this.config.varianceType === 'learned') return sqrt(predictedVariance);
    const { variance, currentBeta } = this.#posterior(timestep);
    const minLog = F(Math.log(variance));
    const maxLog = F(Math.log(currentBeta));
    // std = exp(0.5·(frac·maxLog + (1 − frac)·minLog)) with frac = (v + 1)/2, i.e. exp(log σ).
    const logStd = linearCombination(
      [[0.25 * (maxLog - minLog), predictedVariance]],
      0.25 * (maxLog + minLog),
    );
    const std = exp(logStd);
    logStd.dispose();
    return std;
  }

  #splitLearned(modelOutput: Tensor, sample: Tensor): [Tensor, Tensor] {
    const c = sample.shape[1] as number;
    if (modelOutput.shape[1] !== 2 * c) {
      throw new ShapeMismatchError(
        `${this.className} with variance_type "${this.config.varianceType}": model output (prediction and variance channels)`,
        [sample.shape[0] as number, 2 * c, ...sample.shape.slice(2)],
        modelOutput.shape,
      );
    }
    return [sliceAxis(modelOutput, 1, 0, c), sliceAxis(modelOutput, 1, c, 2 * c)];
  }

  /** Ancestral step t → previous timestep; noise is drawn (from `generator`) whenever t > 0. */
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: StepOptions = {}): StepOutput {
    const learned = LEARNED.includes(this.config.varianceType);
    const [prediction, predictedVariance] = learned
      ? this.#splitLearned(modelOutput, sample)
      : [modelOutput, undefined];
    const { a, mix } = this.#posterior(timestep);
    const p = predictionCoefficients(this.config.predictionType, a);
    const out = predictionStep(prediction, sample, p, mix, this.config);
    if (timestep > 0) {
      const noise = noiseLike(prediction, this.#noise.pick(options.generator));
      if (predictedVariance) {
        const std = this.#learnedStd(predictedVariance, timestep);
        out.prevSample = addScaledNoise(out.prevSample, std, noise);
        std.dispose();
      } else {
        out.prevSample = addScaledNoise(out.prevSample, this.noiseStd(timestep), noise);
      }
    }
    if (learned) disposeAll(prediction, predictedVariance);
    return out;
  }

  linearForm(timestep: number): LinearStepForm {
    assertX0NotClipped(this.config, this.className);
    if (LEARNED.includes(this.config.varianceType)) {
      throw new UnsupportedOptionError(
        'variance_type',
        this.config.varianceType,
        ['fixed_small', 'fixed_large'],
        {
          context: `${this.className}.linearForm: a learned variance scales the noise per element`,
        },
      );
    }
    const { a, mix } = this.#posterior(timestep);
    const p = predictionCoefficients(this.config.predictionType, a);
    return { ...mixCoefficients(p, mix), noise: timestep > 0 ? this.noiseStd(timestep) : 0 };
  }

  clone(): DDPMScheduler {
    return new DDPMScheduler(this.config);
  }
}
