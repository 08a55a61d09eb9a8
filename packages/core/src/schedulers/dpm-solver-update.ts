/**
 * The DPM-Solver family's multistep updates (Lu et al. 2022, "DPM-Solver" and
 * "DPM-Solver++"), as diffusers' DPMSolverMultistepScheduler computes them, reduced
 * to scalars: x_next = sample·x + Σ_k outputs[k]·m_k + noise·z, where m_0 is the
 * current converted model output (x0 for the ++ variants, ε otherwise) and m_k
 * the one k steps earlier. Scalars are rounded to float32 as torch computes them.
 */
import { UnsupportedOptionError } from '../errors';

const F = Math.fround;

export type DPMSolverAlgorithm = 'dpmsolver++' | 'dpmsolver' | 'sde-dpmsolver++' | 'sde-dpmsolver';
export const DPM_SOLVER_ALGORITHMS: readonly DPMSolverAlgorithm[] = [
  'dpmsolver++',
  'dpmsolver',
  'sde-dpmsolver++',
  'sde-dpmsolver',
];
export type DPMSolverType = 'midpoint' | 'heun';
export const DPM_SOLVER_TYPES: readonly DPMSolverType[] = ['midpoint', 'heun'];

/** Whether the algorithm predicts x0 (the ++ variants) rather than ε. */
export const predictsData = (algorithm: DPMSolverAlgorithm): boolean => algorithm.endsWith('++');
export const isStochastic = (algorithm: DPMSolverAlgorithm): boolean => algorithm.startsWith('sde-');

/** From a VE sigma: alpha = 1/√(σ² + 1), sigma = σ·alpha, lambda = log alpha − log sigma (∞ at σ = 0). */
export function vpScales(sigma: number): { alpha: number; sigma: number; lambda: number } {
  const alpha = F(1 / F(Math.sqrt(F(F(sigma * sigma) + 1))));
  const s = F(sigma * alpha);
  return { alpha, sigma: s, lambda: F(F(Math.log(alpha)) - F(Math.log(s))) };
}

export interface DPMUpdate {
  sample: number;
  /** Coefficients of m_0 (current), m_1, m_2: as many as the order. */
  outputs: number[];
  noise: number;
}

/** Per-algorithm scalars: the sample's, D0's, D1's (midpoint or Heun form), D2's, the noise's. */
interface Phi {
  sample: number;
  d0: number;
  d1Midpoint: number;
  d1Heun: number;
  d2: number;
  noise: number;
}

function phi(
  algorithm: DPMSolverAlgorithm,
  h: number,
  next: ReturnType<typeof vpScales>,
  s0: ReturnType<typeof vpScales>,
): Phi {
  const { alpha: aT, sigma: sT } = next;
  switch (algorithm) {
    case 'dpmsolver++': {
      const e = F(F(Math.exp(-h)) - 1);
      return {
        sample: F(sT / s0.sigma),
        d0: -F(aT * e),
        d1Midpoint: -F(0.5 * F(aT * e)),
        d1Heun: F(aT * F(F(e / h) + 1)),
        d2: -F(aT * F(F(F(e + h) / F(h * h)) - 0.5)),
        noise: 0,
      };
    }
    case 'dpmsolver': {
      const e = F(F(Math.exp(h)) - 1);
      return {
        sample: F(aT / s0.alpha),
        d0: -F(sT * e),
        d1Midpoint: -F(0.5 * F(sT * e)),
        d1Heun: -F(sT * F(F(e / h) - 1)),
        d2: -F(sT * F(F(F(e - h) / F(h * h)) - 0.5)),
        noise: 0,
      };
    }
    case 'sde-dpmsolver++': {
      const q = F(1 - F(Math.exp(F(-2 * h))));
      const h2 = F(2 * h);
      return {
        sample: F(F(sT / s0.sigma) * F(Math.exp(-h))),
        d0: F(aT * q),
        d1Midpoint: F(0.5 * F(aT * q)),
        d1Heun: F(aT * F(F(q / -h2) + 1)),
        d2: F(aT * F(F(F(q - h2) / F(h2 * h2)) - 0.5)),
        noise: F(sT * F(Math.sqrt(q))),
      };
    }
    case 'sde-dpmsolver': {
      const e = F(F(Math.exp(h)) - 1);
      return {
        sample: F(aT / s0.alpha),
        d0: -F(2 * F(sT * e)),
        d1Midpoint: -F(sT * e),
        d1Heun: -F(2 * F(sT * F(F(e / h) - 1))),
        d2: Number.NaN,
        noise: F(sT * F(Math.sqrt(F(F(Math.exp(F(2 * h))) - 1)))),
      };
    }
    default:
      throw new UnsupportedOptionError('algorithm_type', algorithm, DPM_SOLVER_ALGORITHMS);
  }
}

/**
 * The update from sigmas[i] to sigmas[i + 1] of the given order, the earlier
 * points being sigmas[i − 1] and sigmas[i − 2]. Differences of the m_k are
 * expanded so the result is a plain weighted sum of m_0, m_1, m_2.
 */
export function dpmUpdate(
  algorithm: DPMSolverAlgorithm,
  solverType: DPMSolverType,
  order: 1 | 2 | 3,
  sigmas: readonly number[],
  i: number,
): DPMUpdate {
  const at = (k: number) => vpScales(sigmas[k] as number);
  const next = at(i + 1);
  const s0 = at(i);
  const h = F(next.lambda - s0.lambda);
  const c = phi(algorithm, h, next, s0);
  if (order === 1) return { sample: c.sample, outputs: [c.d0], noise: c.noise };
  const s1 = at(i - 1);
  const inv0 = F(1 / F(F(s0.lambda - s1.lambda) / h));
  if (order === 2) {
    // D1 = (m0 − m1)/r0.
    const d1 = solverType === 'midpoint' ? c.d1Midpoint : c.d1Heun;
    return { sample: c.sample, outputs: [c.d0 + d1 * inv0, -d1 * inv0], noise: c.noise };
  }
  if (algorithm === 'sde-dpmsolver') {
    throw new UnsupportedOptionError('solver_order', 3, [1, 2], {
      context: 'algorithm_type "sde-dpmsolver"',
    });
  }
  const s2 = at(i - 2);
  const r0 = F(F(s0.lambda - s1.lambda) / h);
  const r1 = F(F(s1.lambda - s2.lambda) / h);
  const inv1 = F(1 / r1);
  // D1 = D1_0 + q·(D1_0 − D1_1), D2 = u·(D1_0 − D1_1), with D1_0 = (m0 − m1)/r0, D1_1 = (m1 − m2)/r1.
  const q = F(r0 / F(r0 + r1));
  const u = F(1 / F(r0 + r1));
  const a = c.d1Heun * (1 + q) + c.d2 * u;
  const b = c.d1Heun * q + c.d2 * u;
  return {
    sample: c.sample,
    outputs: [c.d0 + a * inv0, -a * inv0 - b * inv1, b * inv1],
    noise: c.noise,
  };
}
