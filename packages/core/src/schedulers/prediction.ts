import { UnsupportedOptionError } from '../errors';
import type { PredictionType } from './scheduler';

const F = Math.fround;

/** x0 and ε as linear functions of (x, model output): x0 = x0x·x + x0o·out, ε = ex·x + eo·out. */
export interface PredictionCoefficients {
  x0x: number;
  x0o: number;
  ex: number;
  eo: number;
}

/**
 * Converts a model output at noise level alpha_cumprod = a (x = √a·x0 + √(1−a)·ε)
 * into x0 and ε, as coefficient pairs so that steps and their linear forms share one formula.
 */
export function predictionCoefficients(
  predictionType: PredictionType,
  alphaProd: number,
): PredictionCoefficients {
  const sa = F(Math.sqrt(alphaProd));
  const sb = F(Math.sqrt(F(1 - alphaProd)));
  switch (predictionType) {
    case 'epsilon':
      return { x0x: 1 / sa, x0o: -sb / sa, ex: 0, eo: 1 };
    case 'sample':
      return { x0x: 0, x0o: 1, ex: 1 / sb, eo: -sa / sb };
    case 'v_prediction':
      return { x0x: sa, x0o: -sb, ex: sb, eo: sa };
    default:
      throw new UnsupportedOptionError('prediction_type', predictionType, [
        'epsilon',
        'v_prediction',
        'sample',
      ]);
  }
}
