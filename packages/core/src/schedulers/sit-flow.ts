import { InvalidArgumentError } from '../errors';
import { type Tensor, add, disposeAll, mul } from '../tensor/index';
import { type ParseConfigOptions, parseConfig, toSnakeConfig } from './config';
import type { LinearStepForm, Scheduler, StepOutput } from './scheduler';
import type { KeySpecs } from './shared-config';
import { StepIndex } from './step-index';
import { addScaled } from './step-ops';
import { TwoStageStep, twice } from './two-stage';

const F = Math.fround;

export type SiTSolver = 'euler' | 'heun';
export const SIT_SOLVERS: readonly SiTSolver[] = ['euler', 'heun'];

export interface SiTFlowSchedulerConfig {
  /** Euler: one model call per interval. Heun: two (predictor, then trapezoidal corrector). */
  solver: SiTSolver;
  /**
   * Heun only. 'euler' leaves the last interval first order, as diffusers' Heun does
   * (2n − 1 calls); 'heun' corrects it too, as a fixed-grid Heun ODE integrator does (2n calls).
   */
  heunFinalStep: SiTSolver;
}

export const SIT_FLOW_DEFAULTS: SiTFlowSchedulerConfig = { solver: 'euler', heunFinalStep: 'euler' };

export const SIT_FLOW_KEYS: KeySpecs<SiTFlowSchedulerConfig> = {
  solver: { type: 'enum', values: SIT_SOLVERS },
  heunFinalStep: { type: 'enum', values: SIT_SOLVERS },
};

/** One step() call: the interval's width and whether the call is its corrector. */
interface PlannedCall {
  dt: number;
  corrector: boolean;
  /** A predictor whose interval gets a corrector call after it. */
  corrected: boolean;
}

/** The velocity's derivative coefficients: dx/dt = v, the model output itself. */
const VELOCITY = { dx: 0, dout: 1 } as const;

/**
 * The ODE sampler of SiT (Ma et al. 2024): the linear interpolant x_t = t·x1 + (1 − t)·x0
 * between noise x0 (t = 0) and data x1 (t = 1), a model predicting the velocity x1 − x0,
 * and dx/dt = v integrated forward on the uniform grid t_i = i/n. Timesteps are the
 * times t ∈ [0, 1), ascending, that the model is called at; they enter its timestep
 * embedding unscaled. For velocity models SiT integrates the whole of [0, 1] and takes
 * no special last step (its last-step options belong to its SDE sampler).
 *
 * SiT's own `num_steps` counts grid points: its N-point run is setTimesteps(N − 1) here.
 */
export class SiTFlowScheduler implements Scheduler {
  readonly className: string = 'SiTFlowScheduler';
  readonly config: Readonly<SiTFlowSchedulerConfig>;
  readonly initNoiseSigma = 1;
  /** Continuous time: the model takes t itself. */
  readonly numTrainTimesteps = 1;
  timesteps: number[] = [];
  /** The integration grid t_0 = 0, …, t_n = 1. */
  grid: number[] = [];
  numInferenceSteps = 0;
  #plan: PlannedCall[] = [];
  readonly #stepIndex = new StepIndex();
  readonly #stage = new TwoStageStep();

  constructor(config: Partial<SiTFlowSchedulerConfig> = {}) {
    this.config = { ...SIT_FLOW_DEFAULTS, ...config };
  }

  static fromConfig(json: Record<string, unknown>, options?: Partial<ParseConfigOptions>): SiTFlowScheduler {
    return new SiTFlowScheduler(
      parseConfig(json, SIT_FLOW_DEFAULTS, SIT_FLOW_KEYS, { source: 'SiTFlowScheduler', ...options }),
    );
  }

  get order(): number {
    return this.config.solver === 'heun' ? 2 : 1;
  }

  /** Noise level of the interpolant on the grid: 1 − t (1 at the start, 0 at the data). */
  get sigmas(): number[] {
    return this.grid.map((t) => F(1 - t));
  }

  get stepIndex(): number | null {
    return this.#stepIndex.current;
  }

  setBeginIndex(index: number): void {
    this.#stepIndex.setBegin(index);
  }

  /** `numInferenceSteps` intervals; Heun calls the model about twice per interval. */
  setTimesteps(numInferenceSteps: number): void {
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new InvalidArgumentError(
        `numInferenceSteps must be a positive integer, got ${numInferenceSteps}`,
      );
    }
    const n = numInferenceSteps;
    const grid = Array.from({ length: n + 1 }, (_, i) => F(i / n));
    const dts = grid.slice(1).map((t, i) => F(t - (grid[i] as number)));
    const starts = grid.slice(0, -1);
    if (this.config.solver === 'euler') {
      this.timesteps = starts;
      this.#plan = dts.map((dt) => ({ dt, corrector: false, corrected: false }));
    } else {
      const correctLast = this.config.heunFinalStep === 'heun';
      const corrected = dts.map((_, i) => i < n - 1 || correctLast);
      this.timesteps = [0, ...twice(grid.slice(1, n)), ...(correctLast ? [1] : [])];
      this.#plan = dts.flatMap((dt, i) => {
        const predictor = { dt, corrector: false, corrected: corrected[i] as boolean };
        return corrected[i] ? [predictor, { dt, corrector: true, corrected: false }] : [predictor];
      });
    }
    this.grid = grid;
    this.numInferenceSteps = n;
    this.#stepIndex.reset();
    this.#stage.reset();
  }

  scaleModelInput(sample: Tensor, _timestep: number): Tensor {
    return sample;
  }

  /** The interpolant at time t: t·data + (1 − t)·noise. */
  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    if (!(timestep >= 0 && timestep <= 1)) {
      throw new InvalidArgumentError(`${this.className}: timestep must be a time in [0, 1], got ${timestep}`);
    }
    const a = mul(originalSamples, F(timestep));
    const b = mul(noise, F(1 - timestep));
    const out = add(a, b);
    disposeAll(a, b);
    return out;
  }

  #call(index: number): PlannedCall {
    const call = this.#plan[index];
    if (!call) {
      throw new InvalidArgumentError(
        `${this.className}: step index ${index} is outside the ${this.#plan.length} calls of the schedule; call setTimesteps() first or to start a new loop`,
      );
    }
    return call;
  }

  step(modelOutput: Tensor, timestep: number, sample: Tensor): StepOutput {
    const index = this.#stepIndex.resolve(timestep, this.timesteps, this.className);
    const call = this.#call(index);
    const prevSample = call.corrector
      ? this.#stage.correct(modelOutput)
      : this.#stage.predict(sample, modelOutput, call.dt, VELOCITY, call.corrected);
    // The data the velocity points at from here: x1 = x_t + (1 − t)·v.
    const predOriginalSample = addScaled(sample, modelOutput, F(1 - (this.timesteps[index] as number)));
    this.#stepIndex.advance();
    return { prevSample, predOriginalSample };
  }

  linearForm(timestep: number): LinearStepForm {
    const call = this.#call(this.#stepIndex.peek(timestep, this.timesteps, this.className));
    return this.#stage.linearForm(VELOCITY, call.dt);
  }

  clone(): SiTFlowScheduler {
    return new SiTFlowScheduler(this.config);
  }

  toConfig(): Record<string, unknown> {
    return toSnakeConfig(this.className, this.config);
  }
}
