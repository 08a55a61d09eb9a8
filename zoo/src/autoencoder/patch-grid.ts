/** Non-overlapping square patches of NCHW RGB images, flattened as (row, column, channel). */
export interface PatchGrid {
  imageSize: number;
  patchSize: number;
}

export const CHANNELS = 3;

function patchOrigin(grid: PatchGrid, position: number): [number, number] {
  const perRow = grid.imageSize / grid.patchSize;
  return [Math.floor(position / perRow) * grid.patchSize, (position % perRow) * grid.patchSize];
}

/** Copies patch `position` (row-major over the grid) of image `index` into `out`. */
export function readPatch(
  images: Float32Array,
  index: number,
  position: number,
  grid: PatchGrid,
  out: Float64Array,
): void {
  const { imageSize: s, patchSize: p } = grid;
  const [y0, x0] = patchOrigin(grid, position);
  let d = 0;
  for (let r = 0; r < p; r++) {
    for (let col = 0; col < p; col++) {
      for (let c = 0; c < CHANNELS; c++)
        out[d++] = images[((index * CHANNELS + c) * s + y0 + r) * s + x0 + col] as number;
    }
  }
}

/** Writes `patch` as patch `position` of image `index`. */
export function writePatch(
  images: Float32Array,
  index: number,
  position: number,
  grid: PatchGrid,
  patch: Float64Array,
): void {
  const { imageSize: s, patchSize: p } = grid;
  const [y0, x0] = patchOrigin(grid, position);
  let d = 0;
  for (let r = 0; r < p; r++) {
    for (let col = 0; col < p; col++) {
      for (let c = 0; c < CHANNELS; c++)
        images[((index * CHANNELS + c) * s + y0 + r) * s + x0 + col] = patch[d++] as number;
    }
  }
}
