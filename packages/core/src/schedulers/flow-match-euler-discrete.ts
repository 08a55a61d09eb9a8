import { InvalidArgumentError, InvalidConfigError } from '../errors';
import { type Tensor, add, disposeAll, mul, sub } from '../tensor/index';
import { linspace } from './betas';
import { type ParseConfigOptions, parseConfig, toSnakeConfig } from './config';
import { DefaultNoiseStream, noiseLike } from './noise';
import type { LinearStepForm, Scheduler, StepOptions, StepOutput } from './scheduler';
import type { KeySpecs } from './shared-config';
import { exponentialSigmas, karrasSigmas, sigmaRespacing } from './sigma-schedule';
import { StepIndex } from './step-index';
import { addScaled } from './step-ops';

const F = Math.fround;

export interface FlowMatchEulerDiscreteSchedulerConfig {
  numTrainTimesteps: number;
  /** Static timestep shift s: σ ← s·σ/(1 + (s − 1)·σ) (SD3 uses 3). */
  shift: number;
  /** Resolution-dependent shift (Flux): setTimesteps then needs `mu`. */
  useDynamicShifting: boolean;
  baseShift: number | null;
  maxShift: number | null;
  baseImageSeqLen: number;
  maxImageSeqLen: number;
  /** Runs sigma from 0 up to 1 instead (timesteps 1 − σ). */
  invertSigmas: boolean;
  /** Stretches the shifted sigmas so the last one equals this. */
  shiftTerminal: number | null;
  useKarrasSigmas: boolean;
  useExponentialSigmas: boolean;
  useBetaSigmas: boolean;
  timeShiftType: 'exponential' | 'linear';
  /** Re-noise the predicted x0 to the next level instead of the deterministic Euler step. */
  stochasticSampling: boolean;
}

export const FLOW_MATCH_EULER_DISCRETE_DEFAULTS: FlowMatchEulerDiscreteSchedulerConfig = {
  numTrainTimesteps: 1000,
  shift: 1.0,
  useDynamicShifting: false,
  baseShift: 0.5,
  maxShift: 1.15,
  baseImageSeqLen: 256,
  maxImageSeqLen: 4096,
  invertSigmas: false,
  shiftTerminal: null,
  useKarrasSigmas: false,
  useExponentialSigmas: false,
  useBetaSigmas: false,
  timeShiftType: 'exponential',
  stochasticSampling: false,
};

export const FLOW_MATCH_EULER_DISCRETE_KEYS: KeySpecs<FlowMatchEulerDiscreteSchedulerConfig> = {
  numTrainTimesteps: { type: 'number', integer: true, min: 1 },
  shift: { type: 'number', min: 0 },
  useDynamicShifting: { type: 'boolean' },
  baseShift: { type: 'number', nullable: true },
  maxShift: { type: 'number', nullable: true },
  baseImageSeqLen: { type: 'number', integer: true, min: 1 },
  maxImageSeqLen: { type: 'number', integer: true, min: 1 },
  invertSigmas: { type: 'boolean' },
  shiftTerminal: { type: 'number', min: 0, max: 1, nullable: true },
  useKarrasSigmas: { type: 'boolean' },
  useExponentialSigmas: { type: 'boolean' },
  useBetaSigmas: { type: 'boolean' },
  timeShiftType: { type: 'enum', values: ['exponential', 'linear'] },
  stochasticSampling: { type: 'boolean' },
};

export interface FlowMatchSetTimestepsOptions {
  /** The dynamic shift's log-scale (Flux); required with use_dynamic_shifting. See calculateShift. */
  mu?: number;
  /** Explicit sigmas (descending, before shifting), instead of n evenly spaced ones. */
  sigmas?: readonly number[];
}

/**
 * The dynamic shift's mu for an image of `imageSeqLen` latent tokens, interpolated
 * linearly between (base_image_seq_len, base_shift) and (max_image_seq_len, max_shift),
 * as the Flux pipelines compute it.
 */
export function calculateShift(
  imageSeqLen: number,
  config: Pick<
    FlowMatchEulerDiscreteSchedulerConfig,
    'baseImageSeqLen' | 'maxImageSeqLen' | 'baseShift' | 'maxShift'
  >,
): number {
  const { baseImageSeqLen, maxImageSeqLen, baseShift, maxShift } = config;
  if (baseShift === null || maxShift === null) {
    throw new InvalidConfigError('base_shift/max_shift', 'numbers to compute a dynamic shift', null);
  }
  const m = (maxShift - baseShift) / (maxImageSeqLen - baseImageSeqLen);
  return imageSeqLen * m + (baseShift - m * baseImageSeqLen);
}

/**
 * Sigma arithmetic in the precision the reference runs it: float64 for the schedule it
 * builds itself, float32 for sigmas the caller passes (numpy keeps their dtype).
 */
type Round = (x: number) => number;
const exact: Round = (x) => x;

function staticShift(sigma: number, shift: number, r: Round): number {
  return r(r(r(shift) * sigma) / r(1 + r(r(shift - 1) * sigma)));
}

function dynamicShift(sigma: number, mu: number, type: 'exponential' | 'linear', r: Round): number {
  const a = type === 'exponential' ? Math.exp(mu) : mu;
  return r(r(a) / r(r(a) + r(r(1 / sigma) - 1)));
}

/**
 * Euler steps on a rectified-flow / flow-matching ODE (SD3, Flux), with diffusers'
 * FlowMatchEulerDiscreteScheduler semantics: x_t = (1 − σ)·x0 + σ·noise, the model predicts
 * the velocity noise − x0, σ runs from 1 (noise) to 0 and x_next = x + (σ_next − σ)·v.
 */
export class FlowMatchEulerDiscreteScheduler implements Scheduler {
  readonly className: string = 'FlowMatchEulerDiscreteScheduler';
  readonly config: Readonly<FlowMatchEulerDiscreteSchedulerConfig>;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: number[];
  /** One more than timesteps: the final 0 (1 with invert_sigmas). */
  sigmas: number[];
  numInferenceSteps = 0;
  /** The ends of the train schedule (after the static shift), which inference schedules span. */
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  readonly #respacing;
  readonly #stepIndex = new StepIndex();
  readonly #noise = new DefaultNoiseStream();

  constructor(config: Partial<FlowMatchEulerDiscreteSchedulerConfig> = {}) {
    this.config = { ...FLOW_MATCH_EULER_DISCRETE_DEFAULTS, ...config };
    this.#respacing = sigmaRespacing(this.config, this.className);
    const n = this.config.numTrainTimesteps;
    // linspace(1, N, N)/N, shifted in float32 unless the shift is dynamic.
    const base = linspace(1, n, n)
      .reverse()
      .map((t) => F(F(t) / n));
    const train = this.config.useDynamicShifting
      ? base
      : base.map((s) => staticShift(s, this.config.shift, F));
    this.sigmas = train;
    this.timesteps = train.map((s) => F(s * n));
    this.sigmaMin = train[train.length - 1] as number;
    this.sigmaMax = train[0] as number;
  }

  /** Reads diffusers' `scheduler_config.json` (snake_case) as is. */
  static fromConfig(
    json: Record<string, unknown>,
    options?: Partial<ParseConfigOptions>,
  ): FlowMatchEulerDiscreteScheduler {
    return new FlowMatchEulerDiscreteScheduler(
      parseConfig(json, FLOW_MATCH_EULER_DISCRETE_DEFAULTS, FLOW_MATCH_EULER_DISCRETE_KEYS, {
        source: 'FlowMatchEulerDiscreteScheduler',
        ...options,
      }),
    );
  }

  get numTrainTimesteps(): number {
    return this.config.numTrainTimesteps;
  }

  get stepIndex(): number | null {
    return this.#stepIndex.current;
  }

  setBeginIndex(index: number): void {
    this.#stepIndex.setBegin(index);
  }

  setTimesteps(numInferenceSteps: number, options: FlowMatchSetTimestepsOptions = {}): void {
    const { numTrainTimesteps: n, useDynamicShifting, shiftTerminal, timeShiftType } = this.config;
    const { mu, sigmas: given } = options;
    if (useDynamicShifting && mu === undefined) {
      throw new InvalidArgumentError(
        `${this.className}: use_dynamic_shifting needs setTimesteps(n, { mu }); got no mu (compute it with calculateShift(imageSeqLen, scheduler.config))`,
      );
    }
    if (given && given.length !== numInferenceSteps) {
      throw new InvalidArgumentError(
        `${this.className}: expected ${numInferenceSteps} sigmas (one per step), got ${given.length}`,
      );
    }
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new InvalidArgumentError(
        `numInferenceSteps must be a positive integer, got ${numInferenceSteps}`,
      );
    }
    const r: Round = given ? F : exact;
    let sigmas = given
      ? given.map(F)
      : linspace(this.sigmaMax * n, this.sigmaMin * n, numInferenceSteps).map((t) => t / n);
    sigmas =
      mu !== undefined && useDynamicShifting
        ? sigmas.map((s) => dynamicShift(s, mu, timeShiftType, r))
        : sigmas.map((s) => staticShift(s, this.config.shift, r));
    if (shiftTerminal) {
      // Stretch 1 − σ so that the last sigma lands on shift_terminal.
      const scale = r(r(1 - (sigmas[sigmas.length - 1] as number)) / r(1 - shiftTerminal));
      sigmas = sigmas.map((s) => r(1 - r(r(1 - s) / scale)));
    }
    if (this.#respacing !== 'none') {
      const lo = sigmas[sigmas.length - 1] as number;
      const hi = sigmas[0] as number;
      sigmas =
        this.#respacing === 'karras'
          ? karrasSigmas(lo, hi, numInferenceSteps)
          : exponentialSigmas(lo, hi, numInferenceSteps);
    }
    let levels = sigmas.map(F);
    if (this.config.invertSigmas) levels = levels.map((s) => F(1 - s));
    this.timesteps = levels.map((s) => F(s * n));
    this.sigmas = [...levels, this.config.invertSigmas ? 1 : 0];
    this.numInferenceSteps = numInferenceSteps;
    this.#stepIndex.reset();
  }

  /** The model takes x_t as is. */
  scaleModelInput(sample: Tensor, _timestep: number): Tensor {
    return sample;
  }

  /** The forward process: σ·noise + (1 − σ)·x0 (diffusers' scale_noise). */
  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    const sigma = this.sigmas[this.#stepIndex.forNoise(timestep, this.timesteps, this.className)] as number;
    const a = mul(noise, sigma);
    const b = mul(originalSamples, F(1 - sigma));
    const out = add(a, b);
    disposeAll(a, b);
    return out;
  }

  #levels(index: number): { sigma: number; next: number } {
    const sigma = this.sigmas[index] as number;
    const next = this.sigmas[index + 1];
    if (next === undefined) {
      throw new InvalidArgumentError(
        `${this.className}: step index ${index} is past the last of ${this.timesteps.length} steps; call setTimesteps() to start a new loop`,
      );
    }
    return { sigma, next };
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: StepOptions = {}): StepOutput {
    const { sigma, next } = this.#levels(this.#stepIndex.resolve(timestep, this.timesteps, this.className));
    const scaled = mul(modelOutput, sigma);
    const predOriginalSample = sub(sample, scaled);
    scaled.dispose();
    let prevSample: Tensor;
    if (this.config.stochasticSampling) {
      // Jump to the next level along a fresh noise draw: (1 − σ')·x0 + σ'·z.
      const noise = noiseLike(sample, this.#noise.pick(options.generator));
      const a = mul(predOriginalSample, F(1 - next));
      const b = mul(noise, next);
      prevSample = add(a, b);
      disposeAll(noise, a, b);
    } else {
      prevSample = addScaled(sample, modelOutput, F(next - sigma));
    }
    this.#stepIndex.advance();
    return { prevSample, predOriginalSample };
  }

  linearForm(timestep: number): LinearStepForm {
    const { sigma, next } = this.#levels(this.#stepIndex.peek(timestep, this.timesteps, this.className));
    if (this.config.stochasticSampling) {
      const keep = F(1 - next);
      return { sample: keep, output: -keep * sigma, noise: next };
    }
    return { sample: 1, output: F(next - sigma) };
  }

  clone(): FlowMatchEulerDiscreteScheduler {
    return new FlowMatchEulerDiscreteScheduler(this.config);
  }

  toConfig(): Record<string, unknown> {
    return toSnakeConfig(this.className, this.config);
  }
}
