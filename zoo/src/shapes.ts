/**
 * The five object shapes, as inside-tests in the object's own frame: (u, v) is the
 * offset from the centre divided by the radius, v pointing down. They are chosen to
 * differ in coarse layout, visible even at the 8×8 latent resolution: filled centre
 * (circle) against hollow centre (ring), arms on the axes (plus) against arms on the
 * diagonals (cross), and a top/bottom asymmetry (triangle).
 */
export const SHAPES = ['circle', 'ring', 'plus', 'cross', 'triangle'] as const;
export type ShapeName = (typeof SHAPES)[number];

const ARM_HALF_WIDTH = 0.3;
const RING_INNER = 0.5;
// Triangle with apex at v = -1 and base at v = 0.75 (half-width 1), shifted so its centroid
// sits at the centre, and enlarged so its area is closer to the others'.
const TRIANGLE_SCALE = 1.15;
const TRIANGLE_CENTROID = -1 + (2 / 3) * 1.75;

function inPlus(u: number, v: number): boolean {
  const au = Math.abs(u);
  const av = Math.abs(v);
  return (au <= ARM_HALF_WIDTH && av <= 1) || (av <= ARM_HALF_WIDTH && au <= 1);
}

export function insideShape(shape: ShapeName, u: number, v: number): boolean {
  switch (shape) {
    case 'circle':
      return u * u + v * v <= 1;
    case 'ring': {
      const d = u * u + v * v;
      return d <= 1 && d >= RING_INNER * RING_INNER;
    }
    case 'plus':
      return inPlus(u, v);
    case 'cross':
      return inPlus((u + v) * Math.SQRT1_2, (v - u) * Math.SQRT1_2);
    case 'triangle': {
      const tu = u / TRIANGLE_SCALE;
      const tv = v / TRIANGLE_SCALE + TRIANGLE_CENTROID;
      return tv >= -1 && tv <= 0.75 && Math.abs(tu) <= (tv + 1) / 1.75;
    }
  }
}
