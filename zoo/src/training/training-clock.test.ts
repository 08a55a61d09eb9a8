import { describe, expect, it } from 'vitest';
import { formatDuration, TrainingClock } from './training-clock';

describe('TrainingClock', () => {
  it('adds the time of earlier sessions, and measures speed in this one', () => {
    let now = 1000;
    const clock = new TrainingClock(() => now);
    clock.restore({ elapsedSeconds: 50, lossAverage: 0.5, evaluations: [{ step: 100, loss: 0.6 }] });
    clock.start(120);
    now += 30;
    clock.record(130, 0.4);
    expect(clock.elapsedSeconds).toBe(80);
    expect(clock.secondsPerStep).toBe(3);
    expect(clock.lossAverage).toBeCloseTo(0.98 * 0.5 + 0.02 * 0.4, 12);
    clock.recordEvaluation(130, 0.45);
    expect(clock.toMetadata()).toEqual({
      elapsedSeconds: 80,
      lossAverage: clock.lossAverage,
      evaluations: [
        { step: 100, loss: 0.6 },
        { step: 130, loss: 0.45 },
      ],
    });
  });

  it('starts a new run from zero, with the first loss as the average', () => {
    const clock = new TrainingClock(() => 5);
    clock.restore(undefined);
    expect(clock.secondsPerStep).toBe(0);
    clock.start(0);
    clock.record(1, 2);
    expect(clock.lossAverage).toBe(2);
  });
});

describe('formatDuration', () => {
  it('writes hours, minutes and seconds', () => {
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(185)).toBe('3 min 05 s');
    expect(formatDuration(3720)).toBe('1 h 02 min');
  });
});
