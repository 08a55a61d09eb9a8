import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, ShapeMismatchError } from '@noiserefine/core';
import { PNG } from 'pngjs';

/** NCHW images in [-1, 1], 1 or 3 channels. */
export interface ImageBatch {
  data: Float32Array;
  shape: readonly [number, number, number, number];
}

export interface ImageGridOptions {
  rows: number;
  cols: number;
  /** Class index per image: drawn as a colour-coded strip under each tile. */
  labels?: ArrayLike<number>;
  /** Nearest-neighbour magnification (default: tiles at least 64 px high). */
  scale?: number;
  /** Pixels between tiles (default 2). */
  gap?: number;
}

/** Tableau's 10 categorical colours: distinct at a glance, one per zoo class. */
const LABEL_PALETTE: readonly (readonly [number, number, number])[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];
const LABEL_STRIP = 4;
const GAP_GREY = 24;

const toByte = (x: number) => Math.round(Math.min(1, Math.max(0, (x + 1) / 2)) * 255);

/** The grid as PNG bytes; images beyond rows × cols are left out, missing cells stay dark. */
export function encodeImageGrid(images: ImageBatch, options: ImageGridOptions): Uint8Array {
  const [count, channels, height, width] = images.shape;
  if ((channels !== 1 && channels !== 3) || images.data.length !== count * channels * height * width) {
    throw new ShapeMismatchError('image grid', '[N, 1 or 3, H, W] matching the data length', [
      ...images.shape,
    ]);
  }
  const { rows, cols, labels, gap = 2 } = options;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new InvalidArgumentError(
      `image grid: expected positive integer rows and cols, got ${rows} × ${cols}`,
    );
  }
  const scale = options.scale ?? Math.max(1, Math.ceil(64 / height));
  const strip = labels === undefined ? 0 : LABEL_STRIP;
  const tileW = width * scale;
  const tileH = height * scale + strip;
  const png = new PNG({ width: cols * tileW + (cols + 1) * gap, height: rows * tileH + (rows + 1) * gap });
  const out = png.data;
  for (let i = 0; i < out.length; i += 4) out.set([GAP_GREY, GAP_GREY, GAP_GREY, 255], i);
  const plane = height * width;
  for (let n = 0; n < Math.min(count, rows * cols); n++) {
    const x0 = gap + (n % cols) * (tileW + gap);
    const y0 = gap + Math.floor(n / cols) * (tileH + gap);
    const base = n * channels * plane;
    for (let y = 0; y < height * scale; y++) {
      for (let x = 0; x < tileW; x++) {
        const p = Math.floor(y / scale) * width + Math.floor(x / scale);
        const at = ((y0 + y) * png.width + x0 + x) * 4;
        for (let c = 0; c < 3; c++) {
          out[at + c] = toByte(images.data[base + (channels === 3 ? c : 0) * plane + p] as number);
        }
        out[at + 3] = 255;
      }
    }
    if (labels !== undefined) {
      const colour = LABEL_PALETTE[(labels[n] ?? 0) % LABEL_PALETTE.length] as readonly number[];
      for (let y = height * scale; y < tileH; y++) {
        for (let x = 0; x < tileW; x++) out.set([...colour, 255], ((y0 + y) * png.width + x0 + x) * 4);
      }
    }
  }
  return PNG.sync.write(png);
}

/** Writes a grid of images as a PNG file. */
export async function writeImageGrid(
  path: string,
  images: ImageBatch,
  options: ImageGridOptions,
): Promise<void> {
  await writeFile(path, encodeImageGrid(images, options));
}
