import type { Generator } from '../random/generator';
import type { Tensor } from '../tensor/tensor';

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export const PREDICTION_TYPES: readonly PredictionType[] = ['epsilon', 'v_prediction', 'sample'];

export interface StepOptions {
  /** DDIM's eta: 0 is deterministic, 1 is DDPM-like. */
  eta?: number;
  /** Stream for the noise of stochastic steps (eta > 0, DDPM). */
  generator?: Generator;
}

export interface StepOutput {
  prevSample: Tensor;
  predOriginalSample: Tensor;
}

/**
 * One update with the model output held fixed, written as a linear map:
 *   x_next = sample·x + output·ε + Σ_j (history[j].sample·x_{-j-1} + history[j].output·ε_{-j-1}) + noise·z
 * where x and ε are the sample and model output passed to this step() call and
 * history[j] refers to the (j+1)-th previous step() call. With the denoiser's
 * gradient stopped, d x_next / d x follows from these scalars alone: this is
 * what Multistep Score Distillation multiplies along a trajectory.
 */
export interface LinearStepForm {
  sample: number;
  output: number;
  history?: readonly { sample: number; output: number }[];
  /** Coefficient of fresh Gaussian noise (stochastic steps). */
  noise?: number;
}

export interface Scheduler {
  /** The scheduler's class name as diffusers spells it (e.g. "DDIMScheduler"). */
  readonly className: string;
  /** Timesteps of the current schedule, in the order step() expects them. */
  readonly timesteps: readonly number[];
  /** Noise levels, where the scheduler works in sigma space. */
  readonly sigmas?: readonly number[];
  /** Standard deviation of the initial noise: multiply N(0, I) latents by this. */
  readonly initNoiseSigma: number;
  /** Model evaluations per timestep interval (2 for Heun). */
  readonly order: number;
  /** Number of train timesteps (or 1 for continuous-time flow samplers). */
  readonly numTrainTimesteps: number;
  setTimesteps(numInferenceSteps: number): void;
  scaleModelInput(sample: Tensor, timestep: number): Tensor;
  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor;
  step(modelOutput: Tensor, timestep: number, sample: Tensor, options?: StepOptions): StepOutput;
  /** The linear form of the next step(·, timestep, ·) call, given the scheduler's current state. */
  linearForm(timestep: number, options?: Pick<StepOptions, 'eta'>): LinearStepForm;
  /** A fresh scheduler with the same config (no timesteps or step state carried over). */
  clone(): Scheduler;
  /** The config as a diffusers-style snake_case object. */
  toConfig(): Record<string, unknown>;
}
