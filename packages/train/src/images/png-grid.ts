import type { RgbImage } from '@noiserefine/core';
import { InvalidArgumentError } from '@noiserefine/core';
import { PNG } from 'pngjs';

/**
 * A picture of latents for models without a VAE decoder: channels 0–2 as RGB (a single
 * channel as grey) on the fixed range [−3, 3], so pictures from different steps compare,
 * upscaled by pixel repetition to at least `minSide` pixels.
 */
export function latentPreview(values: Float32Array, shape: readonly number[], minSide = 64): RgbImage[] {
  const [batch, channels, height, width] = shape as [number, number, number, number];
  const factor = Math.max(1, Math.ceil(minSide / Math.max(height, width)));
  const plane = height * width;
  return Array.from({ length: batch }, (_, b) => {
    const data = new Uint8Array(height * factor * width * factor * 3);
    for (let y = 0; y < height * factor; y++) {
      for (let x = 0; x < width * factor; x++) {
        const p = Math.floor(y / factor) * width + Math.floor(x / factor);
        for (let c = 0; c < 3; c++) {
          const channel = Math.min(c, channels - 1);
          const v = values[(b * channels + channel) * plane + p] as number;
          data[(y * width * factor + x) * 3 + c] = Math.round(
            Math.min(255, Math.max(0, (v / 6 + 0.5) * 255)),
          );
        }
      }
    }
    return { width: width * factor, height: height * factor, data };
  });
}

/** Rows of equally sized images as one PNG, with a 2-pixel grey gutter. */
export function pngGrid(rows: readonly (readonly RgbImage[])[]): Uint8Array {
  const first = rows[0]?.[0];
  if (!first) throw new InvalidArgumentError('image grid: expected at least one image, got none');
  const { width, height } = first;
  const gap = 2;
  const columns = Math.max(...rows.map((r) => r.length));
  const png = new PNG({ width: columns * (width + gap) + gap, height: rows.length * (height + gap) + gap });
  png.data.fill(128);
  rows.forEach((row, r) => {
    row.forEach((image, c) => {
      if (image.width !== width || image.height !== height) {
        throw new InvalidArgumentError(
          `image grid: expected ${width}×${height} images, got ${image.width}×${image.height} at row ${r}, column ${c}`,
        );
      }
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const to = ((gap + r * (height + gap) + y) * png.width + gap + c * (width + gap) + x) * 4;
          const from = (y * width + x) * 3;
          png.data[to] = image.data[from] as number;
          png.data[to + 1] = image.data[from + 1] as number;
          png.data[to + 2] = image.data[from + 2] as number;
          png.data[to + 3] = 255;
        }
      }
    });
  });
  return new Uint8Array(PNG.sync.write(png));
}
