import type { RgbImage } from '@noiserefine/core';
import { InvalidArgumentError } from '@noiserefine/core';
import {
  HorizontalAlign,
  Jimp,
  JimpMime,
  ResizeStrategy,
  loadFont,
  measureText,
  measureTextHeight,
} from 'jimp';
import { SANS_16_WHITE } from 'jimp/fonts';

export interface GridRow {
  /** Text drawn left of the row, e.g. the class name. */
  label: string;
  /** One image per column. */
  images: readonly RgbImage[];
}

export interface LabelledGridOptions {
  /** Column titles drawn above the grid. */
  columns: readonly string[];
  /** Nearest-neighbour magnification of each tile (default: tiles ≥ 96 px and wide enough for the titles). */
  scale?: number;
}

const GAP = 6;
/** Space above and below the column titles. */
const HEADER_PADDING = 10;
const BACKGROUND = 0x202020ff;

/**
 * Renders images as a grid with row labels and column titles into PNG bytes.
 * jimp does the PNG encoding, nearest-neighbour scaling and text (its bundled bitmap font).
 */
export async function renderLabelledGrid(
  rows: readonly GridRow[],
  options: LabelledGridOptions,
): Promise<Uint8Array> {
  const first = rows[0]?.images[0];
  if (!first) throw new InvalidArgumentError('labelled grid: expected at least one row with one image');
  for (const row of rows) {
    if (row.images.length !== options.columns.length) {
      throw new InvalidArgumentError(
        `labelled grid: row "${row.label}" has ${row.images.length} images, expected ${options.columns.length} (one per column)`,
      );
    }
  }
  const font = await loadFont(SANS_16_WHITE);
  const titleW = Math.max(...options.columns.map((title) => measureText(font, title))) + GAP;
  const scale = options.scale ?? Math.max(1, Math.ceil(96 / first.height), Math.ceil(titleW / first.width));
  const tileW = first.width * scale;
  const tileH = first.height * scale;
  // Titles wider than a tile (an explicit small scale) wrap; the header grows to hold them.
  const header =
    HEADER_PADDING + Math.max(...options.columns.map((title) => measureTextHeight(font, title, tileW)));
  const labelW = 8 + Math.max(...rows.map((r) => measureText(font, r.label)));
  const width = labelW + options.columns.length * (tileW + GAP) + GAP;
  const height = header + rows.length * (tileH + GAP) + GAP;
  const canvas = new Jimp({ width, height, color: BACKGROUND });
  options.columns.forEach((title, c) => {
    canvas.print({
      font,
      x: labelW + GAP + c * (tileW + GAP),
      y: 6,
      text: { text: title, alignmentX: HorizontalAlign.CENTER },
      maxWidth: tileW,
    });
  });
  rows.forEach((row, r) => {
    const y = header + r * (tileH + GAP);
    canvas.print({ font, x: 4, y: y + Math.max(0, tileH / 2 - 9), text: row.label });
    row.images.forEach((image, c) => {
      const tile = new Jimp({ width: image.width, height: image.height });
      for (let p = 0; p < image.width * image.height; p++) {
        tile.bitmap.data[p * 4] = image.data[p * 3] as number;
        tile.bitmap.data[p * 4 + 1] = image.data[p * 3 + 1] as number;
        tile.bitmap.data[p * 4 + 2] = image.data[p * 3 + 2] as number;
        tile.bitmap.data[p * 4 + 3] = 255;
      }
      tile.resize({ w: tileW, h: tileH, mode: ResizeStrategy.NEAREST_NEIGHBOR });
      canvas.composite(tile, labelW + GAP + c * (tileW + GAP), y);
    });
  });
  return new Uint8Array(await canvas.getBuffer(JimpMime.png));
}
