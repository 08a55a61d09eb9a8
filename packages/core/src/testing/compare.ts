import { expect } from 'vitest';
import type { Tolerance } from './fixtures';

/** How far `actual` is from `expected`, elementwise, under a tolerance. */
export interface Closeness {
  /** Values outside atol + rtol·|expected| (a NaN against a number counts). */
  mismatches: number;
  /** Flat index of the largest |actual − expected| (−1 when there are no values). */
  worstIndex: number;
  worstError: number;
}

/**
 * Compares elementwise: |a − e| ≤ atol + rtol·|e|, as numpy.allclose. NaN matches only NaN and
 * an infinity only the same infinity, so a backend that overflows never passes by accident.
 */
export function closeness(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
): Closeness {
  let mismatches = 0;
  let worstIndex = -1;
  let worstError = -1;
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    let error: number;
    if (Number.isNaN(e) || Number.isNaN(a)) error = Number.isNaN(a) && Number.isNaN(e) ? 0 : Infinity;
    else if (!Number.isFinite(e) || !Number.isFinite(a)) error = a === e ? 0 : Infinity;
    else error = Math.abs(a - e);
    if (error > tolerance.atol + tolerance.rtol * Math.abs(Number.isFinite(e) ? e : 0)) mismatches++;
    if (error > worstError) {
      worstError = error;
      worstIndex = i;
    }
  }
  return { mismatches, worstIndex, worstError: Math.max(worstError, 0) };
}

/** A one-paragraph explanation of a failed comparison, or null when the values agree. */
export function describeMismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
  what: string,
): string | null {
  if (actual.length !== expected.length) {
    return `${what}: expected ${expected.length} values, got ${actual.length}`;
  }
  const c = closeness(actual, expected, tolerance);
  if (c.mismatches === 0) return null;
  return (
    `${what}: ${c.mismatches} of ${expected.length} values differ by more than ` +
    `atol ${tolerance.atol} + rtol ${tolerance.rtol}·|expected|; the worst, at flat index ${c.worstIndex}, ` +
    `is ${actual[c.worstIndex]} where ${expected[c.worstIndex]} was expected (|difference| ${c.worstError})`
  );
}

/** Fails the running test unless `actual` matches `expected` within `tolerance`. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
  what: string,
): void {
  const message = describeMismatch(actual, expected, tolerance, what);
  if (message !== null) expect.fail(message);
}

/** Fails the running test unless the shapes are equal. */
export function expectShape(actual: readonly number[], expected: readonly number[], what: string): void {
  expect([...actual], `${what}: shape`).toEqual([...expected]);
}

export const EXACT: Tolerance = { atol: 0, rtol: 0 };
