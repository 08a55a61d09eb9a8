import { InvalidArgumentError } from '../errors';

/** A finite number in [min, max] (default [0, ∞)), or an InvalidArgumentError naming the option. */
export function checkScale(
  guidance: string,
  option: string,
  value: unknown,
  { min = 0, max = Number.POSITIVE_INFINITY }: { min?: number; max?: number } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = Number.isFinite(max) ? `in [${min}, ${max}]` : `≥ ${min}`;
    const given = typeof value === 'number' ? String(value) : JSON.stringify(value);
    throw new InvalidArgumentError(`${guidance}: ${option} must be a finite number ${range}, got ${given}`);
  }
  return value;
}

/** A positive integer, or an InvalidArgumentError naming the option. */
export function checkCount(guidance: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    const given = typeof value === 'number' ? String(value) : JSON.stringify(value);
    throw new InvalidArgumentError(`${guidance}: ${option} must be a positive integer, got ${given}`);
  }
  return value;
}
