import { InvalidArgumentError, UnsupportedOptionError } from '../errors';
import { Generator } from '../random/generator';
import { type Tensor, clip, disposeAll, linearCombination } from '../tensor/index';
import { BETA_SCHEDULES, type BetaSchedule, makeAlphasCumprod } from './betas';
import { type KeySpec, type ParseConfigOptions, parseConfig, toSnakeConfig } from './config';
import { predictionCoefficients } from './prediction';
import {
  type LinearStepForm,
  PREDICTION_TYPES,
  type PredictionType,
  type Scheduler,
  type StepOptions,
  type StepOutput,
} from './scheduler';
import { TIMESTEP_SPACINGS, type TimestepSpacing, spacedTimesteps } from './spacing';
import { dynamicThreshold } from './thresholding';

const F = Math.fround;

export interface DDIMSchedulerConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  trainedBetas: number[] | null;
  clipSample: boolean;
  setAlphaToOne: boolean;
  stepsOffset: number;
  predictionType: PredictionType;
  thresholding: boolean;
  dynamicThresholdingRatio: number;
  clipSampleRange: number;
  sampleMaxValue: number;
  timestepSpacing: TimestepSpacing;
  rescaleBetasZeroSnr: boolean;
}

export const DDIM_DEFAULTS: DDIMSchedulerConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  trainedBetas: null,
  clipSample: true,
  setAlphaToOne: true,
  stepsOffset: 0,
  predictionType: 'epsilon',
  thresholding: false,
  dynamicThresholdingRatio: 0.995,
  clipSampleRange: 1.0,
  sampleMaxValue: 1.0,
  timestepSpacing: 'leading',
  rescaleBetasZeroSnr: false,
};

export const DDIM_KEYS: { [K in keyof DDIMSchedulerConfig]: KeySpec } = {
  numTrainTimesteps: { type: 'number', integer: true, min: 1 },
  betaStart: { type: 'number', min: 0, max: 1 },
  betaEnd: { type: 'number', min: 0, max: 1 },
  betaSchedule: { type: 'enum', values: BETA_SCHEDULES },
  trainedBetas: { type: 'numberArray', nullable: true },
  clipSample: { type: 'boolean' },
  setAlphaToOne: { type: 'boolean' },
  stepsOffset: { type: 'number', integer: true, min: 0 },
  predictionType: { type: 'enum', values: PREDICTION_TYPES },
  thresholding: { type: 'boolean' },
  dynamicThresholdingRatio: { type: 'number', min: 0, max: 1 },
  clipSampleRange: { type: 'number', min: 0 },
  sampleMaxValue: { type: 'number', min: 0 },
  timestepSpacing: { type: 'enum', values: TIMESTEP_SPACINGS },
  rescaleBetasZeroSnr: { type: 'boolean' },
};

/** Denoising Diffusion Implicit Models (Song et al. 2021), with diffusers' semantics. */
export class DDIMScheduler implements Scheduler {
  readonly className: string = 'DDIMScheduler';
  readonly config: Readonly<DDIMSchedulerConfig>;
  readonly alphasCumprod: Float32Array;
  readonly finalAlphaCumprod: number;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: number[] = [];
  numInferenceSteps = 0;

  constructor(config: Partial<DDIMSchedulerConfig> = {}) {
    this.config = { ...DDIM_DEFAULTS, ...config };
    this.alphasCumprod = makeAlphasCumprod(this.config);
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : (this.alphasCumprod[0] as number);
    this.timesteps = Array.from(
      { length: this.config.numTrainTimesteps },
      (_, i) => this.config.numTrainTimesteps - 1 - i,
    );
  }

  /** Reads diffusers' `scheduler_config.json` (snake_case) as is. */
  static fromConfig(json: Record<string, unknown>, options?: Partial<ParseConfigOptions>): DDIMScheduler {
    return new DDIMScheduler(
      parseConfig(json, DDIM_DEFAULTS, DDIM_KEYS, { source: 'DDIMScheduler', ...options }),
    );
  }

  get numTrainTimesteps(): number {
    return this.config.numTrainTimesteps;
  }

  setTimesteps(numInferenceSteps: number): void {
    const { timestepSpacing, numTrainTimesteps, stepsOffset } = this.config;
    this.timesteps = spacedTimesteps(timestepSpacing, numInferenceSteps, numTrainTimesteps, stepsOffset);
    this.numInferenceSteps = numInferenceSteps;
  }

  scaleModelInput(sample: Tensor, _timestep: number): Tensor {
    return sample;
  }

  alphaAt(timestep: number): number {
    if (timestep < 0) return this.finalAlphaCumprod;
    const a = this.alphasCumprod[timestep];
    if (a === undefined || !Number.isInteger(timestep)) {
      throw new InvalidArgumentError(
        `timestep must be an integer in [0, ${this.config.numTrainTimesteps - 1}], got ${timestep}`,
      );
    }
    return a;
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    const a = this.alphaAt(timestep);
    return linearCombination([
      [F(Math.sqrt(a)), originalSamples],
      [F(Math.sqrt(F(1 - a))), noise],
    ]);
  }

  /** DDIM always steps back by N div n, whatever the spacing. */
  previousTimestep(timestep: number): number {
    this.#assertTimesteps();
    return timestep - Math.floor(this.config.numTrainTimesteps / this.numInferenceSteps);
  }

  #assertTimesteps(): void {
    if (this.numInferenceSteps === 0) {
      throw new InvalidArgumentError(`${this.className}: call setTimesteps(numInferenceSteps) before step()`);
    }
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
    let x0 = linearCombination([
      [p.x0x, sample],
      [p.x0o, modelOutput],
    ]);
    let prevSample: Tensor;
    const clipping = this.config.thresholding || this.config.clipSample;
    if (!clipping) {
      prevSample = linearCombination([
        [sqrtAPrev * p.x0x + dir * p.ex, sample],
        [sqrtAPrev * p.x0o + dir * p.eo, modelOutput],
      ]);
    } else {
      const raw = x0;
      x0 = this.config.thresholding
        ? dynamicThreshold(raw, this.config.dynamicThresholdingRatio, this.config.sampleMaxValue)
        : clip(raw, -this.config.clipSampleRange, this.config.clipSampleRange);
      raw.dispose();
      const eps = linearCombination([
        [p.ex, sample],
        [p.eo, modelOutput],
      ]);
      prevSample = linearCombination([
        [sqrtAPrev, x0],
        [dir, eps],
      ]);
      eps.dispose();
    }
    if (eta > 0 && std > 0) {
      const noise = (options.generator ?? this.#defaultGenerator()).randn(
        modelOutput.shape,
        modelOutput.backend,
      );
      const noisy = linearCombination([
        [1, prevSample],
        [std, noise],
      ]);
      disposeAll(noise, prevSample);
      prevSample = noisy;
    }
    return { prevSample, predOriginalSample: x0 };
  }

  #generator: Generator | undefined;
  /** Without a generator, noise comes from one stream per scheduler (torch's global RNG analogue). */
  #defaultGenerator(): Generator {
    this.#generator ??= new Generator(0);
    return this.#generator;
  }

  linearForm(timestep: number, options: { eta?: number } = {}): LinearStepForm {
    if (this.config.clipSample || this.config.thresholding) {
      throw new UnsupportedOptionError('clip_sample/thresholding', true, [false], {
        context: `${this.className}.linearForm: clipping x0 makes the step non-linear`,
      });
    }
    const { a, sqrtAPrev, dir, std } = this.#coefficients(timestep, options.eta ?? 0);
    const p = predictionCoefficients(this.config.predictionType, a);
    return { sample: sqrtAPrev * p.x0x + dir * p.ex, output: sqrtAPrev * p.x0o + dir * p.eo, noise: std };
  }

  clone(): DDIMScheduler {
    return new DDIMScheduler(this.config);
  }

  toConfig(): Record<string, unknown> {
    return toSnakeConfig(this.className, this.config);
  }
}
