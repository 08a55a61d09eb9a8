import { describe, expect, it } from 'vitest';
import { insideShape, SHAPES, type ShapeName } from './shapes';

/** Coverage of a shape on an n×n grid over [-1.2, 1.2]². */
function coverage(shape: ShapeName, n = 48): number[] {
  return Array.from({ length: n * n }, (_, i) => {
    const u = (((i % n) + 0.5) / n) * 2.4 - 1.2;
    const v = ((Math.floor(i / n) + 0.5) / n) * 2.4 - 1.2;
    return insideShape(shape, u, v) ? 1 : 0;
  });
}

describe('shapes', () => {
  it('have comparable areas (no class is a speck)', () => {
    const areas = SHAPES.map((s) => coverage(s).reduce((a, b) => a + b, 0) / 48 ** 2);
    expect(Math.min(...areas) / Math.max(...areas)).toBeGreaterThan(0.35);
  });

  it('differ in coarse layout: every pair disagrees on at least 20% of the object area', () => {
    const maps = SHAPES.map((s) => coverage(s));
    for (let i = 0; i < SHAPES.length; i++) {
      for (let j = i + 1; j < SHAPES.length; j++) {
        const a = maps[i]!;
        const b = maps[j]!;
        const differ = a.reduce((s, x, k) => s + Math.abs(x - b[k]!), 0);
        const union = a.reduce((s, x, k) => s + Math.max(x, b[k]!), 0);
        expect(differ / union, `${SHAPES[i]} vs ${SHAPES[j]}`).toBeGreaterThan(0.2);
      }
    }
  });

  it('the ring is hollow and the circle is not; the plus covers the axes, the cross the diagonals', () => {
    expect(insideShape('circle', 0, 0)).toBe(true);
    expect(insideShape('ring', 0, 0)).toBe(false);
    expect(insideShape('ring', 0.75, 0)).toBe(true);
    expect(insideShape('plus', 0.9, 0)).toBe(true);
    expect(insideShape('plus', 0.6, 0.6)).toBe(false);
    expect(insideShape('cross', 0.6, 0.6)).toBe(true);
    expect(insideShape('cross', 0.9, 0)).toBe(false);
    expect(insideShape('triangle', 0, -0.9)).toBe(true);
    expect(insideShape('triangle', 0.6, 0.6)).toBe(true);
    expect(insideShape('triangle', 0.6, -0.6)).toBe(false);
  });
});
