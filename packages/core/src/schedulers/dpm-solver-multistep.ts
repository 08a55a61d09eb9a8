import { InvalidArgumentError, UnsupportedOptionError } from '../errors';
import { type LinearTerm, type Tensor, clone, linearCombination, sliceAxis } from '../tensor/index';
import { type NoiseScheduleConfig, makeAlphasCumprod } from './betas';
import { type ParseConfigOptions, parseConfig, toSnakeConfig } from './config';
import { type DPMSigmaRespacing, dpmSolverSchedule } from './dpm-solver-schedule';
import {
  DPM_SOLVER_ALGORITHMS,
  DPM_SOLVER_TYPES,
  type DPMSolverAlgorithm,
  type DPMSolverType,
  dpmUpdate,
  isStochastic,
  predictsData,
  vpScales,
} from './dpm-solver-update';
import { DefaultNoiseStream, addScaledNoise, noiseLike } from './noise';
import { predictionCoefficientsFromScales } from './prediction';
import { assertX0NotClipped, clipX0 } from './prediction-step';
import type { LinearStepForm, PredictionType, Scheduler, StepOptions, StepOutput } from './scheduler';
import {
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
import { FINAL_SIGMAS_TYPES, type FinalSigmasType, sigmaRespacing } from './sigma-schedule';
import { StepIndex, indexForTimestep } from './step-index';

export interface DPMSolverMultistepSchedulerConfig
  extends NoiseScheduleConfig,
    TimestepConfig,
    ThresholdingConfig {
  solverOrder: number;
  predictionType: PredictionType;
  algorithmType: DPMSolverAlgorithm;
  solverType: DPMSolverType;
  /** First order on the last step (and second order on the one before) when fewer than 15 steps. */
  lowerOrderFinal: boolean;
  /** First order on the last step whatever the step count. */
  eulerAtFinal: boolean;
  useKarrasSigmas: boolean;
  useExponentialSigmas: boolean;
  useBetaSigmas: boolean;
  /** Sigmas uniform in log-SNR (Lu et al.'s original spacing). */
  useLuLambdas: boolean;
  useFlowSigmas: boolean;
  finalSigmasType: FinalSigmasType;
  /** Cuts timesteps whose log-SNR falls below this off the schedule; null is −∞ (no cut). */
  lambdaMinClipped: number | null;
  /** Models that also predict their variance (e.g. DeepFloyd IF): only the first half of the channels is used. */
  varianceType: 'learned' | 'learned_range' | null;
}

export const DPM_SOLVER_MULTISTEP_DEFAULTS: DPMSolverMultistepSchedulerConfig = {
  ...NOISE_SCHEDULE_DEFAULTS,
  ...THRESHOLDING_DEFAULTS,
  solverOrder: 2,
  predictionType: 'epsilon',
  algorithmType: 'dpmsolver++',
  solverType: 'midpoint',
  lowerOrderFinal: true,
  eulerAtFinal: false,
  useKarrasSigmas: false,
  useExponentialSigmas: false,
  useBetaSigmas: false,
  useLuLambdas: false,
  useFlowSigmas: false,
  finalSigmasType: 'zero',
  lambdaMinClipped: null,
  varianceType: null,
  timestepSpacing: 'linspace',
  stepsOffset: 0,
};

/** Names other multistep schedulers' configs use, which diffusers maps onto DPM-Solver's. */
const ALGORITHM_ALIASES: Record<string, DPMSolverAlgorithm> = { deis: 'dpmsolver++' };
const SOLVER_TYPE_ALIASES: Record<string, DPMSolverType> = {
  logrho: 'midpoint',
  bh1: 'midpoint',
  bh2: 'midpoint',
};

export const DPM_SOLVER_MULTISTEP_KEYS: KeySpecs<DPMSolverMultistepSchedulerConfig> = {
  ...NOISE_SCHEDULE_KEYS,
  ...TIMESTEP_KEYS,
  ...THRESHOLDING_KEYS,
  solverOrder: { type: 'number', integer: true, min: 1, max: 3 },
  predictionType: PREDICTION_TYPE_KEY,
  algorithmType: { type: 'enum', values: [...DPM_SOLVER_ALGORITHMS, ...Object.keys(ALGORITHM_ALIASES)] },
  solverType: { type: 'enum', values: [...DPM_SOLVER_TYPES, ...Object.keys(SOLVER_TYPE_ALIASES)] },
  lowerOrderFinal: { type: 'boolean' },
  eulerAtFinal: { type: 'boolean' },
  useKarrasSigmas: { type: 'boolean' },
  useExponentialSigmas: { type: 'boolean' },
  useBetaSigmas: { type: 'boolean' },
  useLuLambdas: { type: 'boolean' },
  useFlowSigmas: { type: 'boolean' },
  finalSigmasType: { type: 'enum', values: FINAL_SIGMAS_TYPES },
  lambdaMinClipped: { type: 'number', nullable: true },
  varianceType: { type: 'enum', values: ['learned', 'learned_range'], nullable: true },
};

/** Zero-SNR rescaling leaves ᾱ_T = 0 (infinite sigma); diffusers pins it to 2^-24 instead. */
const ZERO_SNR_FLOOR = 2 ** -24;

/**
 * DPM-Solver / DPM-Solver++ multistep (Lu et al. 2022), with diffusers' semantics:
 * the model output is converted to an x0 (++) or ε prediction, kept for up to
 * solver_order steps, and the update is the order-k exponential integrator in
 * log-SNR. The step index is found from the first timestep, then advanced per step().
 */
export class DPMSolverMultistepScheduler implements Scheduler {
  readonly className: string = 'DPMSolverMultistepScheduler';
  readonly config: Readonly<DPMSolverMultistepSchedulerConfig>;
  readonly alphasCumprod: Float32Array;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  timesteps: number[];
  /** One more than timesteps: the last is the final sigma (0 or sigma_min). */
  sigmas: number[] = [];
  numInferenceSteps = 0;
  readonly #respacing: DPMSigmaRespacing;
  readonly #stepIndex = new StepIndex();
  readonly #noise = new DefaultNoiseStream();
  /** Converted outputs of the last solver_order steps, oldest first. */
  #history: Tensor[] = [];
  #lowerOrderNums = 0;

  constructor(config: Partial<DPMSolverMultistepSchedulerConfig> = {}) {
    const merged = { ...DPM_SOLVER_MULTISTEP_DEFAULTS, ...config };
    this.config = {
      ...merged,
      algorithmType: ALGORITHM_ALIASES[merged.algorithmType] ?? merged.algorithmType,
      solverType: SOLVER_TYPE_ALIASES[merged.solverType] ?? merged.solverType,
    };
    this.#validate();
    this.#respacing =
      this.config.useKarrasSigmas || this.config.useExponentialSigmas || this.config.useBetaSigmas
        ? sigmaRespacing(this.config, this.className)
        : this.config.useLuLambdas
          ? 'lu'
          : 'none';
    this.alphasCumprod = makeAlphasCumprod(this.config);
    if (this.config.rescaleBetasZeroSnr) this.alphasCumprod[this.alphasCumprod.length - 1] = ZERO_SNR_FLOOR;
    this.timesteps = Array.from(
      { length: this.config.numTrainTimesteps },
      (_, i) => this.config.numTrainTimesteps - 1 - i,
    );
  }

  #validate(): void {
    const { algorithmType, finalSigmasType, solverOrder, useFlowSigmas } = this.config;
    if (!predictsData(algorithmType) && finalSigmasType === 'zero') {
      throw new UnsupportedOptionError('final_sigmas_type', finalSigmasType, ['sigma_min'], {
        context: `${this.className} with algorithm_type "${algorithmType}"`,
      });
    }
    if (algorithmType === 'sde-dpmsolver' && solverOrder === 3) {
      throw new UnsupportedOptionError('solver_order', solverOrder, [1, 2], {
        context: `${this.className} with algorithm_type "sde-dpmsolver"`,
      });
    }
    if (useFlowSigmas) {
      throw new UnsupportedOptionError('use_flow_sigmas', true, [false], {
        context: `${this.className}: flow-matching sigmas are not implemented`,
      });
    }
  }

  /** Reads diffusers' `scheduler_config.json` (snake_case) as is; DEIS/UniPC solver names map as in diffusers. */
  static fromConfig(
    json: Record<string, unknown>,
    options?: Partial<ParseConfigOptions>,
  ): DPMSolverMultistepScheduler {
    return new DPMSolverMultistepScheduler(
      parseConfig(json, DPM_SOLVER_MULTISTEP_DEFAULTS, DPM_SOLVER_MULTISTEP_KEYS, {
        source: 'DPMSolverMultistepScheduler',
        ...options,
      }),
    );
  }

  get numTrainTimesteps(): number {
    return this.config.numTrainTimesteps;
  }

  /** Index of the next step() in timesteps, or null before the first. */
  get stepIndex(): number | null {
    return this.#stepIndex.current;
  }

  /** Start at timesteps[index] (img2img), instead of looking the first timestep up. */
  setBeginIndex(index: number): void {
    this.#stepIndex.setBegin(index);
  }

  setTimesteps(numInferenceSteps: number): void {
    const { timesteps, sigmas } = dpmSolverSchedule(this.alphasCumprod, numInferenceSteps, {
      ...this.config,
      respacing: this.#respacing,
      lambdaMinClipped: this.config.lambdaMinClipped ?? Number.NEGATIVE_INFINITY,
      roundRespacedTimesteps: this.config.betaSchedule !== 'squaredcos_cap_v2',
    });
    this.timesteps = timesteps;
    this.sigmas = sigmas;
    this.numInferenceSteps = timesteps.length;
    this.#resetHistory();
  }

  #resetHistory(): void {
    for (const m of this.#history) m.dispose();
    this.#history = [];
    this.#lowerOrderNums = 0;
    this.#stepIndex.reset();
  }

  scaleModelInput(sample: Tensor, _timestep: number): Tensor {
    return sample;
  }

  /** alpha_t·x0 + sigma_t·noise at the timestep's sigma (the step index's once a loop began from a begin index). */
  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    this.#assertTimesteps();
    const begin = this.#stepIndex.begin;
    const index =
      begin === null
        ? indexForTimestep(timestep, this.timesteps, this.className)
        : (this.#stepIndex.current ?? begin);
    const { alpha, sigma } = vpScales(this.sigmas[index] as number);
    return linearCombination([
      [alpha, originalSamples],
      [sigma, noise],
    ]);
  }

  #assertTimesteps(): void {
    if (this.numInferenceSteps === 0) {
      throw new InvalidArgumentError(`${this.className}: call setTimesteps(numInferenceSteps) before step()`);
    }
  }

  /** Order of the update at step index i, given how many steps have run. */
  #orderAt(i: number): 1 | 2 | 3 {
    const { solverOrder, lowerOrderFinal, eulerAtFinal, finalSigmasType } = this.config;
    const n = this.timesteps.length;
    const short = lowerOrderFinal && n < 15;
    const firstOrderFinal = i === n - 1 && (eulerAtFinal || short || finalSigmasType === 'zero');
    if (solverOrder === 1 || this.#lowerOrderNums < 1 || firstOrderFinal) return 1;
    if (solverOrder === 2 || this.#lowerOrderNums < 2 || (i === n - 2 && short)) return 2;
    return 3;
  }

  /** The converted output m = x·x + out·out at step index i (x0 for ++, ε otherwise). */
  #conversion(i: number): { x: number; out: number } {
    const { alpha, sigma } = vpScales(this.sigmas[i] as number);
    const p = predictionCoefficientsFromScales(this.config.predictionType, alpha, sigma);
    return predictsData(this.config.algorithmType) ? { x: p.x0x, out: p.x0o } : { x: p.ex, out: p.eo };
  }

  #index(timestep: number, commit: boolean): number {
    this.#assertTimesteps();
    const index = commit
      ? this.#stepIndex.resolve(timestep, this.timesteps, this.className)
      : this.#stepIndex.peek(timestep, this.timesteps, this.className);
    if (index >= this.timesteps.length) {
      throw new InvalidArgumentError(
        `${this.className}: step index ${index} is past the last of ${this.timesteps.length} steps; call setTimesteps() to start a new loop`,
      );
    }
    return index;
  }

  /** Model output → m (x0 or ε), dynamic thresholding applied to the x0 it implies. */
  #convert(modelOutput: Tensor, sample: Tensor, i: number): Tensor {
    const c = this.#conversion(i);
    const m = linearCombination([
      [c.x, sample],
      [c.out, modelOutput],
    ]);
    if (!this.config.thresholding) return m;
    if (predictsData(this.config.algorithmType)) {
      const clipped = clipX0(m, this.config);
      m.dispose();
      return clipped;
    }
    // ε form: threshold x0 = (x − σ·ε)/α, then return the ε it implies.
    const { alpha, sigma } = vpScales(this.sigmas[i] as number);
    const x0 = linearCombination([
      [1 / alpha, sample],
      [-sigma / alpha, m],
    ]);
    const clipped = clipX0(x0, this.config);
    const eps = linearCombination([
      [1 / sigma, sample],
      [-alpha / sigma, clipped],
    ]);
    for (const t of [m, x0, clipped]) t.dispose();
    return eps;
  }

  /** The sample-shaped part of a model output (learned-variance models append variance channels). */
  #prediction(modelOutput: Tensor, sample: Tensor): Tensor {
    const channels = sample.shape[1] as number;
    const learned = this.config.varianceType !== null && this.config.predictionType === 'epsilon';
    return learned && modelOutput.shape[1] !== channels
      ? sliceAxis(modelOutput, 1, 0, channels)
      : modelOutput;
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor, options: StepOptions = {}): StepOutput {
    const i = this.#index(timestep, true);
    const order = this.#orderAt(i);
    const prediction = this.#prediction(modelOutput, sample);
    const converted = this.#convert(prediction, sample, i);
    if (prediction !== modelOutput) prediction.dispose();
    this.#history.push(converted);
    const update = dpmUpdate(this.config.algorithmType, this.config.solverType, order, this.sigmas, i);
    const terms: LinearTerm[] = [[update.sample, sample]];
    update.outputs.forEach((c, k) => {
      terms.push([c, this.#history[this.#history.length - 1 - k] as Tensor]);
    });
    let prevSample = linearCombination(terms);
    // SDE variants draw noise on every step, even where its coefficient is 0, to keep the stream aligned.
    if (isStochastic(this.config.algorithmType)) {
      prevSample = addScaledNoise(
        prevSample,
        update.noise,
        noiseLike(converted, this.#noise.pick(options.generator)),
      );
    }
    const predOriginalSample = this.#predOriginal(converted, sample, i);
    while (this.#history.length > this.config.solverOrder) this.#history.shift()?.dispose();
    this.#lowerOrderNums = Math.min(this.#lowerOrderNums + 1, this.config.solverOrder);
    this.#stepIndex.advance();
    return { prevSample, predOriginalSample };
  }

  /** x0 as a tensor the caller owns (the kept history is never handed out). */
  #predOriginal(converted: Tensor, sample: Tensor, i: number): Tensor {
    if (predictsData(this.config.algorithmType)) return clone(converted);
    const { alpha, sigma } = vpScales(this.sigmas[i] as number);
    return linearCombination([
      [1 / alpha, sample],
      [-sigma / alpha, converted],
    ]);
  }

  /**
   * The next step's linear form. The converted outputs depend on their step's sample
   * too, so history[j] carries both the sample and the model output of the (j+1)-th
   * previous step() call.
   */
  linearForm(timestep: number): LinearStepForm {
    assertX0NotClipped(this.config, this.className);
    if (this.config.varianceType !== null) {
      throw new UnsupportedOptionError('variance_type', this.config.varianceType, [null], {
        context: `${this.className}.linearForm: the model output carries extra variance channels`,
      });
    }
    const i = this.#index(timestep, false);
    const update = dpmUpdate(
      this.config.algorithmType,
      this.config.solverType,
      this.#orderAt(i),
      this.sigmas,
      i,
    );
    const [current, ...earlier] = update.outputs as [number, ...number[]];
    const now = this.#conversion(i);
    return {
      sample: update.sample + current * now.x,
      output: current * now.out,
      history: earlier.map((c, j) => {
        const then = this.#conversion(i - j - 1);
        return { sample: c * then.x, output: c * then.out };
      }),
      noise: update.noise,
    };
  }

  clone(): DPMSolverMultistepScheduler {
    return new DPMSolverMultistepScheduler(this.config);
  }

  toConfig(): Record<string, unknown> {
    return toSnakeConfig(this.className, this.config);
  }
}
