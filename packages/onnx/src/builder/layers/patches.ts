import type { GraphBuilder } from '../graph-builder';
import { shapeMismatch } from '../shape-inference';
import type { Value } from '../value';

export interface PatchGeometry {
  patchSize: number;
  channels: number;
  height: number;
  width: number;
}

function checkGeometry(what: string, x: Value, expected: readonly (number | string)[], p: PatchGeometry) {
  const fits =
    p.height % p.patchSize === 0 &&
    p.width % p.patchSize === 0 &&
    x.shape !== undefined &&
    x.shape.length === expected.length &&
    expected.every((d, i) => typeof d !== 'number' || x.dim(i) === null || x.dim(i) === d);
  if (!fits) {
    throw shapeMismatch(
      `${what} with patch size ${p.patchSize}`,
      `[${expected.join(', ')}] with sides divisible by ${p.patchSize}`,
      x.shape,
    );
  }
}

/**
 * [B, C, H, W] → [B, (H/p)·(W/p), p·p·C] tokens in row-major patch order, each patch
 * flattened as (row, column, channel): the exact inverse of DiT's unpatchify.
 */
export function patchify(g: GraphBuilder, x: Value, geometry: PatchGeometry): Value {
  const { patchSize: p, channels: c, height, width } = geometry;
  checkGeometry('patchify', x, ['batch', c, height, width], geometry);
  const h = height / p;
  const w = width / p;
  const blocks = g.reshape(x, [0, c, h, p, w, p]); // B, C, h, pr, w, pc
  const ordered = g.transpose(blocks, [0, 2, 4, 3, 5, 1]); // B, h, w, pr, pc, C
  return g.reshape(ordered, [0, h * w, p * p * c]);
}

/** [B, (H/p)·(W/p), p·p·C] → [B, C, H, W] (DiT's unpatchify). */
export function unpatchify(g: GraphBuilder, x: Value, geometry: PatchGeometry): Value {
  const { patchSize: p, channels: c, height, width } = geometry;
  const h = height / p;
  const w = width / p;
  checkGeometry('unpatchify', x, ['batch', h * w, p * p * c], geometry);
  const blocks = g.reshape(x, [0, h, w, p, p, c]); // B, h, w, pr, pc, C
  const ordered = g.transpose(blocks, [0, 5, 1, 3, 2, 4]); // B, C, h, pr, w, pc
  return g.reshape(ordered, [0, c, height, width]);
}
