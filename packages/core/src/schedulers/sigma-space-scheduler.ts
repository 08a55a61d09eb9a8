import { type Tensor, div } from '../tensor/index';
import { sigmaInitNoise } from './sigma-schedule';
import type { TimestepSpacing } from './spacing';
import { StepIndex } from './step-index';
import { addScaled } from './step-ops';

const F = Math.fround;

/**
 * What the Euler-family schedulers share: latents x = x0 + σ·ε over a list of sigmas
 * (one per step() call, then the final one), walked with diffusers' step index.
 */
export abstract class SigmaSpaceScheduler {
  abstract readonly className: string;
  abstract readonly config: Readonly<{ numTrainTimesteps: number; timestepSpacing: TimestepSpacing }>;
  timesteps: number[] = [];
  /** σ per step() call, then the final level. */
  sigmas: number[] = [];
  numInferenceSteps = 0;
  protected readonly index = new StepIndex();

  get numTrainTimesteps(): number {
    return this.config.numTrainTimesteps;
  }

  /** σmax for linspace/trailing spacing, √(σmax² + 1) for leading. */
  get initNoiseSigma(): number {
    return sigmaInitNoise(this.config.timestepSpacing, Math.max(...this.sigmas));
  }

  /** Index of the next step() in timesteps, or null before the first. */
  get stepIndex(): number | null {
    return this.index.current;
  }

  /** Start at timesteps[index] (img2img), instead of looking the first timestep up. */
  setBeginIndex(index: number): void {
    this.index.setBegin(index);
  }

  /** x / √(σ² + 1): the model sees unit-variance input. Fixes the step index on first use. */
  scaleModelInput(sample: Tensor, timestep: number): Tensor {
    const sigma = this.sigmas[this.index.resolve(timestep, this.timesteps, this.className)] as number;
    return div(sample, F(Math.sqrt(F(F(sigma * sigma) + 1))));
  }

  /** x + σ_t·noise. */
  addNoise(originalSamples: Tensor, noise: Tensor, timestep: number): Tensor {
    const index = this.index.forNoise(timestep, this.timesteps, this.className);
    return addScaled(originalSamples, noise, this.sigmas[index] as number);
  }
}
