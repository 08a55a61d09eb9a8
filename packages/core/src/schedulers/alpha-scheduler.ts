import { InvalidArgumentError } from '../errors';
import type { Tensor } from '../tensor/index';
import { alphaCumprodAt } from './alpha-lookup';
import { type NoiseScheduleConfig, makeAlphasCumprod } from './betas';
import { toSnakeConfig } from './config';
import { addNoiseAtAlpha } from './noise';
import type { TimestepConfig } from './shared-config';
import { spacedTimesteps } from './spacing';

/**
 * What the discrete-time schedulers stepping between alphas_cumprod levels share
 * (DDIM, DDIM inversion, DDPM): the schedule, integer timesteps, the forward
 * process, an identity input scaling and the config round trip.
 */
export abstract class AlphaScheduler<C extends NoiseScheduleConfig & TimestepConfig> {
  abstract readonly className: string;
  readonly config: Readonly<C>;
  readonly alphasCumprod: Float32Array;
  readonly initNoiseSigma = 1;
  readonly order = 1;
  /** Before setTimesteps: every train timestep, descending. */
  timesteps: number[];
  /** 0 until setTimesteps. */
  numInferenceSteps = 0;

  protected constructor(config: C) {
    this.config = config;
    this.alphasCumprod = makeAlphasCumprod(config);
    this.timesteps = Array.from(
      { length: config.numTrainTimesteps },
      (_, i) => config.numTrainTimesteps - 1 - i,
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

  /** alphas_cumprod at an integer timestep; below 0, the scheduler's value before the start of the schedule. */
  alphaAt(timestep: number): number {
    return alphaCumprodAt(this.alphasCumprod, timestep, this.alphaBeforeStart());
  }

  /** The level a step past t = 0 lands on (or starts from, for inversion). */
  protected alphaBeforeStart(): number {
    return 1;
  }

  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    return addNoiseAtAlpha(originalSamples, noise, this.alphaAt(timestep));
  }

  protected assertTimesteps(): void {
    if (this.numInferenceSteps === 0) {
      throw new InvalidArgumentError(`${this.className}: call setTimesteps(numInferenceSteps) before step()`);
    }
  }

  toConfig(): Record<string, unknown> {
    return toSnakeConfig(this.className, this.config);
  }
}
