import { describe, expect, it } from 'vitest';
import { closeness, describeMismatch, expectClose } from './compare';

describe('closeness', () => {
  it('applies atol + rtol·|expected| per element and finds the worst error', () => {
    const c = closeness([1.0, 2.05, 100.5], [1.0, 2.0, 100.0], { atol: 0.01, rtol: 0.01 });
    // 2.05 vs 2: 0.05 > 0.01 + 0.02; 100.5 vs 100: 0.5 ≤ 0.01 + 1.
    expect(c.mismatches).toBe(1);
    expect(c.worstIndex).toBe(2);
    expect(c.worstError).toBeCloseTo(0.5, 12);
  });

  it('matches NaN only with NaN and an infinity only with itself', () => {
    const tol = { atol: 1, rtol: 1 };
    expect(closeness([Number.NaN], [Number.NaN], tol).mismatches).toBe(0);
    expect(closeness([Number.NaN], [0], tol).mismatches).toBe(1);
    expect(closeness([0], [Number.NaN], tol).mismatches).toBe(1);
    expect(closeness([Number.POSITIVE_INFINITY], [Number.POSITIVE_INFINITY], tol).mismatches).toBe(0);
    expect(closeness([Number.NEGATIVE_INFINITY], [Number.POSITIVE_INFINITY], tol).mismatches).toBe(1);
    expect(closeness([1e30], [Number.POSITIVE_INFINITY], tol).mismatches).toBe(1);
  });
});

describe('describeMismatch', () => {
  it('is null when the values agree and names count, index and values otherwise', () => {
    expect(describeMismatch([1, 2], [1, 2], { atol: 0, rtol: 0 }, 'x')).toBeNull();
    const message = describeMismatch([1, 2, 4], [1, 2, 3], { atol: 0.1, rtol: 0 }, 'latent');
    expect(message).toBe(
      'latent: 1 of 3 values differ by more than atol 0.1 + rtol 0·|expected|; the worst, at flat index 2, is 4 where 3 was expected (|difference| 1)',
    );
  });

  it('reports a length difference', () => {
    expect(describeMismatch([1], [1, 2], { atol: 1, rtol: 0 }, 'y')).toBe('y: expected 2 values, got 1');
  });
});

describe('expectClose', () => {
  it('fails the test with the mismatch description', () => {
    expect(() => expectClose([0], [1], { atol: 0.5, rtol: 0 }, 'z')).toThrow(/z: 1 of 1 values differ/);
    expect(() => expectClose([1], [1.2], { atol: 0.5, rtol: 0 }, 'z')).not.toThrow();
  });
});
