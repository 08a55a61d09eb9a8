/**
 * Timesteps and sigmas of DPMSolverMultistepScheduler, following diffusers'
 * `set_timesteps`: integer timesteps spaced over n + 1 points (the last dropped),
 * sigmas read from the schedule's table or respaced (Karras, exponential, Lu's
 * log-SNR-uniform) and mapped back to rounded timesteps.
 */
import { InvalidArgumentError, UnsupportedOptionError } from '../errors';
import { linspace } from './betas';
import {
  type FinalSigmasType,
  exponentialSigmas,
  karrasSigmas,
  sigmaTable,
  sigmaToTimestep,
} from './sigma-schedule';
import { TIMESTEP_SPACINGS, type TimestepSpacing, assertStepCount, roundHalfEven } from './spacing';

const F = Math.fround;

export type DPMSigmaRespacing = 'none' | 'karras' | 'exponential' | 'lu';

export interface DPMScheduleOptions {
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
  respacing: DPMSigmaRespacing;
  finalSigmasType: FinalSigmasType;
  /** Timesteps whose log-SNR lies below this are cut off the top of the schedule (diffusers' lambda_min_clipped). */
  lambdaMinClipped: number;
  /** squaredcos_cap_v2 keeps the respaced timesteps unrounded (before the integer cast), as diffusers does. */
  roundRespacedTimesteps: boolean;
}

/** log(√ᾱ) − log(√(1 − ᾱ)) per train timestep, in float32. */
export function logSnrTable(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => F(F(Math.log(F(Math.sqrt(a)))) - F(Math.log(F(Math.sqrt(F(1 - a)))))));
}

/** One past the last usable train timestep: N minus the timesteps whose log-SNR is below the clip. */
export function lastTimestepAbove(alphasCumprod: Float32Array, lambdaMinClipped: number): number {
  const lambdas = logSnrTable(alphasCumprod);
  let below = 0;
  for (const l of lambdas) if (l < lambdaMinClipped) below += 1;
  return alphasCumprod.length - below;
}

/** Integer timesteps, descending: n of n + 1 evenly spaced points below `lastTimestep`. */
export function dpmSolverTimesteps(
  spacing: TimestepSpacing,
  numInferenceSteps: number,
  numTrainTimesteps: number,
  stepsOffset: number,
  lastTimestep: number,
): number[] {
  const n = numInferenceSteps;
  switch (spacing) {
    case 'linspace':
      return linspace(0, lastTimestep - 1, n + 1)
        .map(roundHalfEven)
        .reverse()
        .slice(0, n);
    case 'leading': {
      const ratio = Math.floor(lastTimestep / (n + 1));
      return Array.from({ length: n }, (_, i) => (n - i) * ratio + stepsOffset);
    }
    case 'trailing': {
      // numpy.arange(last, 0, −N/n): ⌈last/ratio⌉ values, fewer than n when clipped.
      const ratio = numTrainTimesteps / n;
      const count = Math.ceil(lastTimestep / ratio);
      return Array.from({ length: count }, (_, k) => roundHalfEven(lastTimestep - k * ratio) - 1);
    }
    default:
      throw new UnsupportedOptionError('timestep_spacing', spacing, TIMESTEP_SPACINGS);
  }
}

/**
 * Takes a timestep within 1e-6 of an integer as that integer. At the ends of the
 * schedule (σmax, σmin) the mapped timestep is an integer up to last-bit noise of
 * pow/log, which would otherwise decide where truncation lands (999 or 998).
 */
function snapToInteger(t: number): number {
  const nearest = Math.round(t);
  return Math.abs(t - nearest) < 1e-6 ? nearest : t;
}

/** The respaced sigmas (descending, float64) over the whole table's range. */
function respacedSigmas(
  table: Float32Array,
  logSigmas: Float32Array,
  respacing: DPMSigmaRespacing,
  n: number,
) {
  const sigmaMin = table[0] as number;
  const sigmaMax = table[table.length - 1] as number;
  switch (respacing) {
    case 'karras':
      return karrasSigmas(sigmaMin, sigmaMax, n);
    case 'exponential':
      return exponentialSigmas(sigmaMin, sigmaMax, n);
    case 'lu': {
      // Uniform in log-sigma (i.e. in log-SNR), built from the float32 log table.
      const logMin = logSigmas[0] as number;
      const logMax = logSigmas[logSigmas.length - 1] as number;
      return linspace(0, 1, n).map((r) => Math.exp(logMax + r * (logMin - logMax)));
    }
    default:
      throw new InvalidArgumentError(`respacedSigmas: unexpected respacing "${respacing}"`);
  }
}

/**
 * Timesteps and sigmas (one more than timesteps: the final sigma, 0 or sigma_min),
 * sigmas in the variance-exploding parametrisation σ = √((1 − ᾱ)/ᾱ), float32.
 */
export function dpmSolverSchedule(
  alphasCumprod: Float32Array,
  numInferenceSteps: number,
  options: DPMScheduleOptions,
): { timesteps: number[]; sigmas: number[] } {
  const numTrainTimesteps = alphasCumprod.length;
  assertStepCount(numInferenceSteps, numTrainTimesteps);
  const table = sigmaTable(alphasCumprod);
  const last = options.finalSigmasType === 'sigma_min' ? (table[0] as number) : 0;
  if (options.respacing === 'none') {
    const timesteps = dpmSolverTimesteps(
      options.timestepSpacing,
      numInferenceSteps,
      numTrainTimesteps,
      options.stepsOffset,
      lastTimestepAbove(alphasCumprod, options.lambdaMinClipped),
    );
    return { timesteps, sigmas: [...timesteps.map((t) => table[t] as number), last] };
  }
  const logSigmas = table.map((s) => F(Math.log(s)));
  const sigmas = respacedSigmas(table, logSigmas, options.respacing, numInferenceSteps);
  // Exponential sigmas' timesteps are truncated, the others rounded first (diffusers' quirk kept).
  const round = options.respacing !== 'exponential' && options.roundRespacedTimesteps;
  const timesteps = sigmas.map((s) => {
    const t = snapToInteger(sigmaToTimestep(s, logSigmas));
    return Math.trunc(round ? roundHalfEven(t) : t);
  });
  return { timesteps, sigmas: [...sigmas, last].map(F) };
}
