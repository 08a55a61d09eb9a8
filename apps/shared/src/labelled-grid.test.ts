import type { RgbImage } from '@noiserefine/core';
import { Jimp, loadFont, measureText, measureTextHeight } from 'jimp';
import { SANS_16_WHITE } from 'jimp/fonts';
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
    const font = await loadFont(SANS_16_WHITE);
    // Tile (row 1, col 0) is green: sample its centre. "unguided" is wider than a 40 px tile
    // and wraps, so the header is taller than one line.
    const labelW = 8 + measureText(font, 'circle');
    const header = 10 + measureTextHeight(font, 'unguided', 40);
    expect(header).toBeGreaterThan(10 + font.common.lineHeight);
    const x = labelW + 6 + 20;
    const y = header + 40 + 6 + 20;
    const pixel = image.getPixelColor(x, y);
    expect(pixel).toBe(0x00ff00ff);
    expect(image.width).toBe(labelW + 2 * 46 + 6);
  });

  it('by default scales tiles so that every column title fits on one line', async () => {
    const titles = ['Gaussian, unguided', 'Gaussian, CFG 7.5'];
    const png = await renderLabelledGrid([{ label: 'a', images: [solid(0, 0, 0), solid(9, 9, 9)] }], {
      columns: titles,
    });
    const image = await Jimp.read(Buffer.from(png));
    const font = await loadFont(SANS_16_WHITE);
    const tile = 4 * Math.ceil((Math.max(...titles.map((t) => measureText(font, t))) + 6) / 4);
    expect(tile).toBeGreaterThan(96);
    expect(image.height).toBe(10 + font.common.lineHeight + tile + 2 * 6);
  });

  it('rejects rows whose image count does not match the columns', async () => {
    await expect(
      renderLabelledGrid([{ label: 'x', images: [solid(0, 0, 0)] }], { columns: ['a', 'b'] }),
    ).rejects.toThrow(/expected 2/);
  });
});
