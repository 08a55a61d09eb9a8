import { InvalidArgumentError } from '@noiserefine/core';

/** Learning-rate multiplier for a 0-based optimizer step (torch's LambdaLR convention). */
export type LearningRateSchedule = (step: number) => number;

function nonNegativeInteger(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${what}: expected a non-negative integer, got ${value}`);
  }
}

/** diffusers get_constant_schedule. */
export function getConstantSchedule(): LearningRateSchedule {
  return () => 1;
}

/** diffusers get_constant_schedule_with_warmup: linear from 0 to 1 over the warmup, then 1. */
export function getConstantScheduleWithWarmup({
  numWarmupSteps,
}: {
  numWarmupSteps: number;
}): LearningRateSchedule {
  nonNegativeInteger(numWarmupSteps, 'numWarmupSteps');
  return (step) => (step < numWarmupSteps ? step / Math.max(1, numWarmupSteps) : 1);
}

export interface WarmupDecayOptions {
  numWarmupSteps: number;
  numTrainingSteps: number;
}

/** diffusers get_cosine_schedule_with_warmup: warmup, then a cosine from 1 to 0 (numCycles 0.5). */
export function getCosineScheduleWithWarmup({
  numWarmupSteps,
  numTrainingSteps,
  numCycles = 0.5,
}: WarmupDecayOptions & { numCycles?: number }): LearningRateSchedule {
  nonNegativeInteger(numWarmupSteps, 'numWarmupSteps');
  nonNegativeInteger(numTrainingSteps, 'numTrainingSteps');
  return (step) => {
    if (step < numWarmupSteps) return step / Math.max(1, numWarmupSteps);
    const progress = (step - numWarmupSteps) / Math.max(1, numTrainingSteps - numWarmupSteps);
    return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
  };
}

/** diffusers get_linear_schedule_with_warmup: warmup, then linear from 1 to 0. */
export function getLinearScheduleWithWarmup({
  numWarmupSteps,
  numTrainingSteps,
}: WarmupDecayOptions): LearningRateSchedule {
  nonNegativeInteger(numWarmupSteps, 'numWarmupSteps');
  nonNegativeInteger(numTrainingSteps, 'numTrainingSteps');
  return (step) => {
    if (step < numWarmupSteps) return step / Math.max(1, numWarmupSteps);
    return Math.max(0, (numTrainingSteps - step) / Math.max(1, numTrainingSteps - numWarmupSteps));
  };
}
