import { UnsupportedOptionError } from '../errors';
import { PREDICTION_TYPES, type PredictionType } from './scheduler';

const F = Math.fround;

/** x0 = x0x·x + x0o·out for a sample x = x0 + σ·ε (the sigma-space samplers' convention). */
export interface SigmaDenoiser {
  x0x: number;
  x0o: number;
}

/**
 * The denoised estimate from a model output at noise level sigma: epsilon → x − σ·out;
 * v_prediction → out·(−σ/√(σ²+1)) + x/(σ²+1); sample → out. Scalars in float32 as torch has them.
 */
export function sigmaDenoiser(predictionType: PredictionType, sigma: number): SigmaDenoiser {
  switch (predictionType) {
    case 'epsilon':
      return { x0x: 1, x0o: -sigma };
    case 'v_prediction': {
      const s2p1 = F(F(sigma * sigma) + 1);
      return { x0x: 1 / s2p1, x0o: F(-sigma / F(Math.sqrt(s2p1))) };
    }
    case 'sample':
      return { x0x: 0, x0o: 1 };
    default:
      throw new UnsupportedOptionError('prediction_type', predictionType, PREDICTION_TYPES);
  }
}

/** The ODE derivative d = (x − x0)/σ as coefficients: d = dx·x + dout·out. */
export function sigmaDerivative(denoiser: SigmaDenoiser, divisor: number): { dx: number; dout: number } {
  return { dx: (1 - denoiser.x0x) / divisor, dout: -denoiser.x0o / divisor };
}
