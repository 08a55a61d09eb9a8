import { writeFile } from 'node:fs/promises';
import type { RgbImage } from '@noiserefine/core';

/**
 * Writes an RgbImage as a binary PPM, a format every image viewer opens and that needs no
 * encoder. Use any PNG library (jimp, sharp, pngjs) for PNGs: `image.data` is RGB, row-major.
 */
export async function savePpm(path: string, image: RgbImage): Promise<void> {
  const header = new TextEncoder().encode(`P6\n${image.width} ${image.height}\n255\n`);
  const bytes = new Uint8Array(header.length + image.data.length);
  bytes.set(header);
  bytes.set(image.data, header.length);
  await writeFile(path, bytes);
}
