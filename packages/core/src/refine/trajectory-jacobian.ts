import { InvalidArgumentError } from '../errors';
import type { LinearStepForm } from '../schedulers/scheduler';

/**
 * d x_N / d x_0 of a sampling trajectory whose model outputs are held fixed
 * (stop-gradient), from the steps' linear forms. Every coefficient is a scalar,
 * so the Jacobian is a scalar times the identity: for DDIM it is ∏ a_t
 * (paper Eq. 5); for flow Euler it is 1. Multistep solvers reach back through
 * their history terms, so the recurrence keeps the earlier derivatives.
 */
export function trajectoryJacobianScale(forms: readonly LinearStepForm[]): number {
  // derivs[k] = d x_k / d x_0, x_0 being the trajectory's start.
  const derivs: number[] = [1];
  forms.forEach((form, k) => {
    let d = form.sample * (derivs[k] as number);
    form.history?.forEach((h, j) => {
      const back = k - j - 1;
      if (back < 0) {
        if (h.sample !== 0) {
          throw new InvalidArgumentError(
            `step ${k} refers to history ${j + 1} steps back, before the trajectory starts`,
          );
        }
        return;
      }
      d += h.sample * (derivs[back] as number);
    });
    derivs.push(d);
  });
  return derivs[derivs.length - 1] as number;
}
