import { UnsupportedOptionError } from '../errors';
import { PREDICTION_TYPES, type PredictionType } from './scheduler';

const F = Math.fround;

/** x0 and ε as linear functions of (x, model output): x0 = x0x·x + x0o·out, ε = ex·x + eo·out. */
export interface PredictionCoefficients {
  x0x: number;
  x0o: number;
  ex: number;
  eo: number;
}

/**
 * Converts a model output at a noise level where x = alpha·x0 + sigma·ε into x0
 * and ε, as coefficient pairs so that steps and their linear forms share one formula.
 */
export function predictionCoefficientsFromScales(
  predictionType: PredictionType,
  alpha: number,
  sigma: number,
): PredictionCoefficients {
  switch (predictionType) {
    case 'epsilon':
      return { x0x: 1 / alpha, x0o: -sigma / alpha, ex: 0, eo: 1 };
    case 'sample':
      return { x0x: 0, x0o: 1, ex: 1 / sigma, eo: -alpha / sigma };
    case 'v_prediction':
      return { x0x: alpha, x0o: -sigma, ex: sigma, eo: alpha };
    default:
      throw new UnsupportedOptionError('prediction_type', predictionType, PREDICTION_TYPES);
  }
}

/** The same at alphas_cumprod = a (alpha = √a, sigma = √(1−a), each rounded to float32 as torch does). */
export function predictionCoefficients(
  predictionType: PredictionType,
  alphaProd: number,
): PredictionCoefficients {
  return predictionCoefficientsFromScales(
    predictionType,
    F(Math.sqrt(alphaProd)),
    F(Math.sqrt(F(1 - alphaProd))),
  );
}
