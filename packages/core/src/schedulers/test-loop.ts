/**
 * The loops of diffusers' scheduler test suite, over the fixtures of test-vectors.ts,
 * and the check of a final sample against a published sum and mean.
 */
import { expect } from 'vitest';
import type { Generator } from '../random/generator';
import type { Tensor } from '../tensor/index';
import type { Scheduler } from './scheduler';
import { dummyModel, dummyNoise, dummySample, meanAbs, sumAbs } from './test-vectors';

/** The schedule of the reference suite's configs: N = 1000, linear 0.0001 → 0.02. */
export const REFERENCE_SCHEDULE = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
};

/** The scheduler_config.json of SD2.1 / SDXL (DDIM-style keys; other schedulers ignore what is not theirs). */
export const SD_SCHEDULER_CONFIG = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  steps_offset: 1,
  set_alpha_to_one: false,
  clip_sample: false,
};

export interface DummyLoopOptions {
  /** Defaults to all of scheduler.timesteps. */
  timesteps?: readonly number[];
  generator?: Generator;
  eta?: number;
  /** Start from the sample noised to the first timestep with the noise fixture (the "with noise" tests). */
  addNoise?: boolean;
}

/**
 * x ← step(dummyModel(x, t), t, x).prevSample over the timesteps, from the sample fixture.
 * Each step's inputs and x0 are disposed right after it, as the sampling loop does, so a
 * scheduler that kept a reference to them fails here.
 */
export async function dummyLoop(scheduler: Scheduler, options: DummyLoopOptions = {}): Promise<Tensor> {
  const timesteps = options.timesteps ?? scheduler.timesteps;
  let x = dummySample();
  if (options.addNoise) {
    const clean = x;
    x = scheduler.addNoise(clean, dummyNoise(), timesteps[0] as number);
    clean.dispose();
  }
  for (const t of timesteps) {
    const out = await dummyModel(x, t);
    const { prevSample, predOriginalSample } = scheduler.step(out, t, x, {
      generator: options.generator,
      eta: options.eta,
    });
    for (const used of [out, x, predOriginalSample]) used.dispose();
    x = prevSample;
  }
  return x;
}

/** The reference suite's tolerances: 1e-2 on sum(|x|), 1e-3 on mean(|x|). */
export async function expectVector(x: Tensor, expected: { sum?: number; mean: number }): Promise<void> {
  if (expected.sum !== undefined) expect(Math.abs((await sumAbs(x)) - expected.sum)).toBeLessThan(1e-2);
  expect(Math.abs((await meanAbs(x)) - expected.mean)).toBeLessThan(1e-3);
}
