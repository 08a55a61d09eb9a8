/**
 * Noise levels of the sigma-space samplers (Euler, Heun): the schedule's sigma table,
 * inference timesteps (fractional, as diffusers keeps them) and the sigmas at those
 * timesteps, with the Karras and exponential respacings.
 */
import { InvalidArgumentError, UnsupportedOptionError } from '../errors';
import { linspace } from './betas';
import { type TimestepSpacing, assertStepCount, spacedTimesteps } from './spacing';

const F = Math.fround;

export type FinalSigmasType = 'zero' | 'sigma_min';
export const FINAL_SIGMAS_TYPES: readonly FinalSigmasType[] = ['zero', 'sigma_min'];

/** sigma_t = √((1 − ᾱ_t)/ᾱ_t), ascending in t, float32 as torch computes it. */
export function sigmaTable(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => F(Math.sqrt(F(F(1 - a) / a))));
}

/**
 * Inference timesteps, descending, as float32. Unlike DDIM's, linspace spacing is not
 * rounded: these schedulers interpolate the sigma table at fractional timesteps.
 */
export function fractionalTimesteps(
  spacing: TimestepSpacing,
  numInferenceSteps: number,
  numTrainTimesteps: number,
  stepsOffset: number,
): number[] {
  if (spacing === 'linspace') {
    assertStepCount(numInferenceSteps, numTrainTimesteps);
    return linspace(0, numTrainTimesteps - 1, numInferenceSteps)
      .map(F)
      .reverse();
  }
  return spacedTimesteps(spacing, numInferenceSteps, numTrainTimesteps, stepsOffset);
}

/** numpy.interp over the grid 0, 1, …, table.length − 1 (clamped at both ends). */
export function interpolateTable(table: ArrayLike<number>, x: number): number {
  const last = table.length - 1;
  if (x <= 0) return table[0] as number;
  if (x >= last) return table[last] as number;
  const j = Math.floor(x);
  const lo = table[j] as number;
  return ((table[j + 1] as number) - lo) * (x - j) + lo;
}

/** Karras et al. (2022) Eq. 5: (σmax^(1/ρ) + r·(σmin^(1/ρ) − σmax^(1/ρ)))^ρ for r = linspace(0, 1, n). */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number, rho = 7): number[] {
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return linspace(0, 1, n).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/** Log-uniform sigmas from σmax down to σmin. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, n: number): number[] {
  return linspace(Math.log(sigmaMax), Math.log(sigmaMin), n).map(Math.exp);
}

/**
 * The fractional train timestep whose sigma is `sigma`: linear interpolation in
 * log-sigma between the two neighbouring table entries (clamped to the table).
 */
export function sigmaToTimestep(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  // The last index whose log-sigma does not exceed logSigma (0 if none), kept below the end.
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if ((logSigmas[i] as number) <= logSigma) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lo = logSigmas[low] as number;
  const hi = logSigmas[low + 1] as number;
  const w = Math.min(Math.max((lo - logSigma) / (lo - hi), 0), 1);
  return (1 - w) * low + w * (low + 1);
}

/** Leading spacing starts below the top of the schedule, so its latents get the extra unit variance. */
export function sigmaInitNoise(spacing: TimestepSpacing, sigmaMax: number): number {
  return spacing === 'leading' ? F(Math.sqrt(F(F(sigmaMax * sigmaMax) + 1))) : sigmaMax;
}

/** How inference sigmas are respaced once interpolated from the table. */
export type SigmaRespacing = 'none' | 'karras' | 'exponential';

export interface DiscreteSigmaOptions {
  timestepSpacing: TimestepSpacing;
  numTrainTimesteps: number;
  stepsOffset: number;
  respacing: SigmaRespacing;
  /** Overrides of the respaced range's ends (diffusers' sigma_min / sigma_max). */
  sigmaMin?: number | null;
  sigmaMax?: number | null;
  finalSigmasType: FinalSigmasType;
}

/**
 * The timesteps and sigmas (one more than timesteps: the final sigma) of an Euler-family
 * schedule, following diffusers' `set_timesteps`: interpolate the sigma table at the
 * spaced timesteps, optionally respace the sigmas and map them back to timesteps.
 */
export function discreteSigmaSchedule(
  table: Float32Array,
  numInferenceSteps: number,
  options: DiscreteSigmaOptions,
): { timesteps: number[]; sigmas: number[] } {
  let timesteps = fractionalTimesteps(
    options.timestepSpacing,
    numInferenceSteps,
    options.numTrainTimesteps,
    options.stepsOffset,
  );
  let sigmas = timesteps.map((t) => interpolateTable(table, t));
  if (options.respacing !== 'none') {
    const sigmaMin = options.sigmaMin ?? (sigmas[sigmas.length - 1] as number);
    const sigmaMax = options.sigmaMax ?? (sigmas[0] as number);
    sigmas =
      options.respacing === 'karras'
        ? karrasSigmas(sigmaMin, sigmaMax, numInferenceSteps)
        : exponentialSigmas(sigmaMin, sigmaMax, numInferenceSteps);
    const logSigmas = table.map((s) => F(Math.log(s)));
    timesteps = sigmas.map((s) => F(sigmaToTimestep(s, logSigmas)));
  }
  const last = options.finalSigmasType === 'sigma_min' ? (table[0] as number) : 0;
  return { timesteps, sigmas: [...sigmas, last].map(F) };
}

/** Which respacing a config's three mutually exclusive flags ask for. */
export function sigmaRespacing(
  flags: { useKarrasSigmas: boolean; useExponentialSigmas: boolean; useBetaSigmas: boolean },
  source: string,
): SigmaRespacing {
  const on = [flags.useKarrasSigmas, flags.useExponentialSigmas, flags.useBetaSigmas].filter(Boolean).length;
  if (on > 1) {
    throw new InvalidArgumentError(
      `${source}: use_karras_sigmas, use_exponential_sigmas and use_beta_sigmas are exclusive; got ${on} of them true`,
    );
  }
  if (flags.useBetaSigmas) {
    throw new UnsupportedOptionError('use_beta_sigmas', true, [false], {
      context: `${source}: beta-distributed sigmas are not implemented; use use_karras_sigmas or use_exponential_sigmas`,
    });
  }
  if (flags.useKarrasSigmas) return 'karras';
  return flags.useExponentialSigmas ? 'exponential' : 'none';
}
