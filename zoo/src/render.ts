import type { SampleAttributes } from './attributes';
import type { SampleRandom } from './sample-random';
import { insideShape } from './shapes';

/** Sub-samples per pixel side: edges are anti-aliased, so the data has no sub-pixel aliasing. */
const SUPERSAMPLING = 4;
/** Pixel noise (std in [0, 1] units): enough to make backgrounds non-flat. */
const PIXEL_NOISE = 0.01;

/**
 * Renders one sample as [3, size, size] in [-1, 1]: a tinted grey background with a linear
 * gradient and a little noise, and the object composited by its pixel coverage.
 */
export function renderImage(attributes: SampleAttributes, size: number, random: SampleRandom): Float32Array {
  const a = attributes;
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  const cos = Math.cos(-a.rotation);
  const sin = Math.sin(-a.rotation);
  const gx = Math.cos(a.gradientAngle);
  const gy = Math.sin(a.gradientAngle);
  const radius = a.radius * size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let covered = 0;
      for (let sy = 0; sy < SUPERSAMPLING; sy++) {
        for (let sx = 0; sx < SUPERSAMPLING; sx++) {
          const px = x + (sx + 0.5) / SUPERSAMPLING - a.centreX * size;
          const py = y + (sy + 0.5) / SUPERSAMPLING - a.centreY * size;
          const u = (px * cos - py * sin) / radius;
          const v = (px * sin + py * cos) / radius;
          if (insideShape(a.shape, u, v)) covered++;
        }
      }
      const coverage = covered / (SUPERSAMPLING * SUPERSAMPLING);
      // Gradient along (gx, gy), zero at the image centre, ±amplitude at the edges.
      const along = (((x + 0.5) / size - 0.5) * gx + ((y + 0.5) / size - 0.5) * gy) * 2;
      for (let c = 0; c < 3; c++) {
        const background = a.backgroundGrey + (a.backgroundTint[c] as number) + a.gradientAmplitude * along;
        const pixel =
          background * (1 - coverage) + (a.rgb[c] as number) * coverage + PIXEL_NOISE * random.normal();
        out[c * plane + y * size + x] = Math.min(1, Math.max(-1, 2 * pixel - 1));
      }
    }
  }
  return out;
}
