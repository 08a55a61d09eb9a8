import { InvalidArgumentError } from '../errors';
import { type Tensor, add, clone, disposeAll, div } from '../tensor/index';
import type { LinearStepForm } from './scheduler';
import { addScaled } from './step-ops';

/** Repeats every value twice: Heun-style schedules visit each inner point with two calls. */
export const twice = (values: readonly number[]): number[] => values.flatMap((v) => [v, v]);

/** The coefficients of a derivative d = dx·x + dout·out in the sample and model output of its call. */
export interface DerivativeCoefficients {
  dx: number;
  dout: number;
}

interface Pending extends DerivativeCoefficients {
  sample: Tensor;
  derivative: Tensor;
  dt: number;
}

/**
 * The two step() calls of one Heun interval (explicit trapezoidal rule):
 *   predict:  x̃ = x + dt·d₁          (d₁ at the interval's start)
 *   correct:  x' = x + dt·(d₁ + d₂)/2  (d₂ at x̃, the interval's end)
 * It keeps its own copies of x and d₁ between the calls: callers dispose theirs freely.
 */
export class TwoStageStep {
  #pending: Pending | null = null;

  /** The predictor's dt and derivative coefficients while its corrector is due. */
  get pending(): (DerivativeCoefficients & { dt: number }) | null {
    return this.#pending;
  }

  /** Drops a pending corrector (a new schedule). */
  reset(): void {
    if (this.#pending) disposeAll(this.#pending.sample, this.#pending.derivative);
    this.#pending = null;
  }

  /** First stage. Without `keepCorrector` the interval ends here, first order. */
  predict(
    sample: Tensor,
    derivative: Tensor,
    dt: number,
    coefficients: DerivativeCoefficients,
    keepCorrector: boolean,
  ): Tensor {
    this.reset();
    if (keepCorrector) {
      this.#pending = { sample: clone(sample), derivative: clone(derivative), dt, ...coefficients };
    }
    return addScaled(sample, derivative, dt);
  }

  /** Second stage, `derivative` being d₂ at the predicted point. */
  correct(derivative: Tensor): Tensor {
    const pending = this.#pending;
    if (!pending) {
      throw new InvalidArgumentError('a corrector step needs the predictor step of its interval first');
    }
    const sum = add(pending.derivative, derivative);
    const mean = div(sum, 2);
    const out = addScaled(pending.sample, mean, pending.dt);
    disposeAll(sum, mean);
    this.reset();
    return out;
  }

  /**
   * The next call's linear form given its derivative's coefficients: a predictor is
   * x + dt·d; a corrector refers back to the predictor's sample and output.
   */
  linearForm({ dx, dout }: DerivativeCoefficients, dt: number): LinearStepForm {
    const pending = this.#pending;
    if (!pending) return { sample: 1 + dt * dx, output: dt * dout };
    const half = pending.dt / 2;
    return {
      sample: half * dx,
      output: half * dout,
      history: [{ sample: 1 + half * pending.dx, output: half * pending.dout }],
    };
  }
}
