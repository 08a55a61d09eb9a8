import { InvalidArgumentError, UnsupportedOptionError } from '../errors';
import { linspace } from './betas';

export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ['leading', 'trailing', 'linspace'];

/** numpy's round: half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function assertStepCount(numInferenceSteps: number, numTrainTimesteps: number): void {
  if (
    !Number.isInteger(numInferenceSteps) ||
    numInferenceSteps < 1 ||
    numInferenceSteps > numTrainTimesteps
  ) {
    throw new InvalidArgumentError(
      `numInferenceSteps must be an integer in [1, ${numTrainTimesteps}] (num_train_timesteps), got ${numInferenceSteps}`,
    );
  }
}

/** Integer timesteps, descending, for DDIM/DDPM-style schedulers. */
export function spacedTimesteps(
  spacing: TimestepSpacing,
  numInferenceSteps: number,
  numTrainTimesteps: number,
  stepsOffset: number,
): number[] {
  assertStepCount(numInferenceSteps, numTrainTimesteps);
  const n = numInferenceSteps;
  const N = numTrainTimesteps;
  switch (spacing) {
    case 'leading': {
      const ratio = Math.floor(N / n);
      return Array.from({ length: n }, (_, i) => (n - 1 - i) * ratio + stepsOffset);
    }
    case 'trailing': {
      const ratio = N / n;
      const out: number[] = [];
      for (let t = N; t > 0; t -= ratio) out.push(roundHalfEven(t) - 1);
      return out.slice(0, n);
    }
    case 'linspace':
      return linspace(0, N - 1, n)
        .map(roundHalfEven)
        .reverse();
    default:
      throw new UnsupportedOptionError('timestep_spacing', spacing, TIMESTEP_SPACINGS);
  }
}
