import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodeImageGrid, writeImageGrid } from './image-grid';

describe('image grids', () => {
  // Two 2×2 RGB images: the first all white, the second all black.
  const images = {
    data: Float32Array.from({ length: 24 }, (_, i) => (i < 12 ? 1 : -1)),
    shape: [2, 3, 2, 2] as const,
  };

  it('lays images out in rows × cols tiles with gaps, magnified, and label strips', () => {
    const png = PNG.sync.read(
      Buffer.from(encodeImageGrid(images, { rows: 1, cols: 2, scale: 3, gap: 1, labels: [0, 3] })),
    );
    // Width: 2 tiles of 6 px + 3 gaps; height: 6 px + 4 px strip + 2 gaps.
    expect([png.width, png.height]).toEqual([15, 12]);
    const pixel = (x: number, y: number) =>
      Array.from(png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3));
    expect(pixel(1, 1)).toEqual([255, 255, 255]);
    expect(pixel(6, 6)).toEqual([255, 255, 255]);
    expect(pixel(8, 1)).toEqual([0, 0, 0]);
    expect(pixel(0, 0)).toEqual([24, 24, 24]);
    expect(pixel(1, 8)).toEqual([31, 119, 180]);
    expect(pixel(8, 8)).toEqual([214, 39, 40]);
  });

  it('writes a PNG file and validates its input shape', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'grid-')), 'grid.png');
    await writeImageGrid(file, images, { rows: 2, cols: 1 });
    const png = PNG.sync.read(await readFile(file));
    expect(png.width).toBe(2 * 32 + 4);
    expect(() =>
      encodeImageGrid({ data: new Float32Array(5), shape: [1, 3, 2, 2] }, { rows: 1, cols: 1 }),
    ).toThrow(/\[N, 1 or 3, H, W\]/);
    expect(() => encodeImageGrid(images, { rows: 0, cols: 1 })).toThrow(/positive integer rows/);
  });
});
