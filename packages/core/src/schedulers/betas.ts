import { UnsupportedOptionError } from '../errors';

const F = Math.fround;

export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export const BETA_SCHEDULES: readonly BetaSchedule[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];

/** numpy/torch linspace in float64. */
export function linspace(start: number, end: number, n: number): number[] {
  if (n === 1) return [start];
  const step = (end - start) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? end : start + i * step));
}

/**
 * torch.linspace in float32 as its current CPU kernel computes it: step = (end − start)/(n − 1)
 * in float32, the first half counted up from start and the second half down from end, each
 * value a fused multiply-add rounded once to float32 (here: exact in float64, then rounded).
 * Betas from float64 linspace differ in the last bit often enough to miss published vectors;
 * older torch builds (a vectorized kernel) differ from this in a few last bits too.
 */
export function linspaceFloat32(start: number, end: number, n: number): Float32Array {
  const s = F(start);
  const e = F(end);
  if (n === 1) return Float32Array.of(s);
  const step = F(F(e - s) / (n - 1));
  const half = Math.floor(n / 2);
  return Float32Array.from({ length: n }, (_, i) => (i < half ? s + step * i : e - step * (n - 1 - i)));
}

export interface NoiseScheduleConfig {
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  betaSchedule: BetaSchedule;
  trainedBetas: number[] | null;
  rescaleBetasZeroSnr: boolean;
}

/** Betas as float32, computed as diffusers does. */
export function makeBetas(config: NoiseScheduleConfig): Float32Array {
  const n = config.numTrainTimesteps;
  if (config.trainedBetas) return Float32Array.from(config.trainedBetas);
  switch (config.betaSchedule) {
    case 'linear':
      return linspaceFloat32(config.betaStart, config.betaEnd, n);
    case 'scaled_linear':
      // linspace of square roots in float32, then squared (torch float32 ops).
      return linspaceFloat32(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), n).map((v) => F(v * v));
    case 'squaredcos_cap_v2': {
      const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      return Float32Array.from({ length: n }, (_, i) => Math.min(1 - f((i + 1) / n) / f(i / n), 0.999));
    }
    default:
      throw new UnsupportedOptionError('beta_schedule', config.betaSchedule, BETA_SCHEDULES);
  }
}

/**
 * Cumulative product of (1 − beta) as torch.cumprod computes it on the CPU: the running
 * product is kept in float64 and only each stored entry is rounded to float32.
 */
export function cumprodAlphas(betas: Float32Array): Float32Array {
  const out = new Float32Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= F(1 - (betas[i] as number));
    out[i] = acc;
  }
  return out;
}

/**
 * Rescales the schedule to zero terminal SNR (Lin et al. 2023): the last
 * alphas_cumprod becomes exactly 0. Returns new alphas_cumprod.
 */
export function rescaleZeroTerminalSnr(alphasCumprod: Float32Array): Float32Array {
  const s = Float32Array.from(alphasCumprod, Math.sqrt);
  const s0 = s[0] as number;
  const sLast = s[s.length - 1] as number;
  const out = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const v = F(F(F((s[i] as number) - sLast) * s0) / F(s0 - sLast));
    out[i] = F(v * v);
  }
  return out;
}

/** alphas_cumprod for a config, with zero-SNR rescaling applied when asked. */
export function makeAlphasCumprod(config: NoiseScheduleConfig): Float32Array {
  const ac = cumprodAlphas(makeBetas(config));
  return config.rescaleBetasZeroSnr ? rescaleZeroTerminalSnr(ac) : ac;
}
