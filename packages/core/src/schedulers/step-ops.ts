/**
 * The sigma-space samplers' tensor arithmetic, one float32 operation at a time in the
 * order torch runs diffusers' code. Folding the steps into one linear combination would
 * be more accurate, but then results drift from the reference by a few ulps per step,
 * enough to miss its published test vectors; linearForm() gives the folded coefficients.
 */
import { UnsupportedOptionError } from '../errors';
import { type Tensor, add, clone, disposeAll, div, mul, sub } from '../tensor/index';
import { PREDICTION_TYPES, type PredictionType } from './scheduler';

const F = Math.fround;

/** x + d·c, as torch computes `x + d * c` (the product rounded first). */
export function addScaled(x: Tensor, d: Tensor, c: number): Tensor {
  const scaled = mul(d, F(c));
  const out = add(x, scaled);
  scaled.dispose();
  return out;
}

/**
 * The denoised estimate x0 for x = x0 + σ·ε from a model output: epsilon → x − σ·out;
 * v_prediction → out·(−σ/√(σ²+1)) + x/(σ²+1); sample → out (copied: the caller owns both).
 */
export function denoise(
  predictionType: PredictionType,
  sample: Tensor,
  modelOutput: Tensor,
  sigma: number,
): Tensor {
  switch (predictionType) {
    case 'epsilon': {
      const scaled = mul(modelOutput, sigma);
      const out = sub(sample, scaled);
      scaled.dispose();
      return out;
    }
    case 'v_prediction': {
      const s2p1 = F(F(sigma * sigma) + 1);
      const a = mul(modelOutput, F(-sigma / F(Math.sqrt(s2p1))));
      const b = div(sample, s2p1);
      const out = add(a, b);
      disposeAll(a, b);
      return out;
    }
    case 'sample':
      return clone(modelOutput);
    default:
      throw new UnsupportedOptionError('prediction_type', predictionType, PREDICTION_TYPES);
  }
}

/** The probability-flow ODE's derivative (x − x0)/σ. */
export function derivative(sample: Tensor, x0: Tensor, sigma: number): Tensor {
  const diff = sub(sample, x0);
  const out = div(diff, sigma);
  diff.dispose();
  return out;
}
