import type { RgbImage } from '@noiserefine/core';
import { Jimp } from 'jimp';
import { describe, expect, it } from 'vitest';
import { renderLabelledGrid } from './labelled-grid';

const solid = (r: number, g: number, b: number): RgbImage => ({
  width: 4,
  height: 4,
  data: Uint8Array.from({ length: 48 }, (_, i) => [r, g, b][i % 3] as number),
});

describe('renderLabelledGrid', () => {
  it('places each image as a scaled tile under its column title', async () => {
    const png = await renderLabelledGrid(
      [
        { label: 'circle', images: [solid(255, 0, 0), solid(0, 0, 255)] },
        { label: 'ring', images: [solid(0, 255, 0), solid(255, 255, 255)] },
      ],
      { columns: ['unguided', 'CFG'], scale: 10 },
    );
    const image = await Jimp.read(Buffer.from(png));
    // Tile (row 1, col 0) is green: sample its centre.
    const labelW = 8 + 'circle'.length * 9;
    const x = labelW + 6 + 20;
    const y = 28 + 40 + 6 + 20;
    const pixel = image.getPixelColor(x, y);
    expect(pixel).toBe(0x00ff00ff);
    expect(image.width).toBe(labelW + 2 * 46 + 6);
  });

  it('rejects rows whose image count does not match the columns', async () => {
    await expect(
      renderLabelledGrid([{ label: 'x', images: [solid(0, 0, 0)] }], { columns: ['a', 'b'] }),
    ).rejects.toThrow(/expected 2/);
  });
});
