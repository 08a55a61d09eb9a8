import { InvalidArgumentError } from '@noiserefine/core';

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A command-line option that must be a positive number (an integer unless `integer` is false). */
export function positiveOption(name: string, raw: string | undefined, integer = true): number {
  const v = Number(raw);
  if (raw === undefined || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new InvalidArgumentError(
      `--${name}: expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}`,
    );
  }
  return v;
}
