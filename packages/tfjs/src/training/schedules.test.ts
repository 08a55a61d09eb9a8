import { InvalidArgumentError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import {
  getConstantSchedule,
  getConstantScheduleWithWarmup,
  getCosineScheduleWithWarmup,
  getLinearScheduleWithWarmup,
} from './schedules';

describe('learning-rate schedules (diffusers formulas)', () => {
  it('constant', () => {
    const f = getConstantSchedule();
    expect([0, 1, 1000].map(f)).toEqual([1, 1, 1]);
  });

  it('constant with warmup ramps linearly from 0', () => {
    const f = getConstantScheduleWithWarmup({ numWarmupSteps: 4 });
    expect([0, 1, 2, 3, 4, 100].map(f)).toEqual([0, 0.25, 0.5, 0.75, 1, 1]);
  });

  it('cosine with warmup: 1 after warmup, 0.5 halfway through the decay, 0 at the end', () => {
    const f = getCosineScheduleWithWarmup({ numWarmupSteps: 10, numTrainingSteps: 110 });
    expect(f(0)).toBe(0);
    expect(f(5)).toBe(0.5);
    expect(f(10)).toBe(1);
    expect(f(60)).toBeCloseTo(0.5, 12);
    expect(f(110)).toBeCloseTo(0, 12);
    expect(f(200)).toBeGreaterThanOrEqual(0);
  });

  it('cosine with numCycles 1 returns to 1 at the end', () => {
    const f = getCosineScheduleWithWarmup({ numWarmupSteps: 0, numTrainingSteps: 100, numCycles: 1 });
    expect(f(50)).toBeCloseTo(0, 12);
    expect(f(100)).toBeCloseTo(1, 12);
  });

  it('linear with warmup decays to 0', () => {
    const f = getLinearScheduleWithWarmup({ numWarmupSteps: 2, numTrainingSteps: 10 });
    expect([0, 1, 2, 6, 10, 12].map(f)).toEqual([0, 0.5, 1, 0.5, 0, 0]);
  });

  it('rejects negative or fractional step counts', () => {
    expect(() => getConstantScheduleWithWarmup({ numWarmupSteps: -1 })).toThrow(InvalidArgumentError);
    expect(() => getCosineScheduleWithWarmup({ numWarmupSteps: 1, numTrainingSteps: 2.5 })).toThrow(
      /numTrainingSteps: expected a non-negative integer, got 2.5/,
    );
  });
});
