import {
  type Backend,
  type BackendSpec,
  StableDiffusionPipeline,
  StableDiffusionXLPipeline,
  type Tensor,
} from '@noiserefine/core';
import type { CaptionConditioning } from './sd-ddpm-batches';
import type { SDFamily } from './sd-families';

/** Captions encoded per call; the encoders are small, so this only bounds memory. */
const ENCODE_CHUNK = 256;

/** SDXL micro-conditioning of the zoo's 16×16 images: original = target = 16×16, no crop. */
export function zooTimeIds(imageSize: number): number[] {
  return [imageSize, imageSize, 0, 0, imageSize, imageSize];
}

async function take(t: Tensor): Promise<Float32Array> {
  const values = Float32Array.from(await t.data());
  t.dispose();
  return values;
}

/**
 * Encodes every distinct caption with the text encoders of a pipeline folder, through the SDK
 * pipeline's own encodePrompts, so training conditions on exactly what sampling will feed the
 * UNet. The empty prompt's row is what the uncond pass gets: its encoding (SD 2.1) or zeros
 * (SDXL's force_zeros_for_empty_prompt).
 */
export async function encodeCaptions(
  folder: string,
  family: SDFamily,
  captions: readonly string[],
  options: { backend: BackendSpec | Backend; imageSize: number },
): Promise<CaptionConditioning> {
  const distinct = [...new Set(captions)];
  const rowOfCaption = new Map(distinct.map((c, i) => [c, i]));
  const rowOf = Int32Array.from(captions, (c) => rowOfCaption.get(c) as number);
  const emptyRow = distinct.length;
  const hiddenChunks: Float32Array[] = [];
  const pooledChunks: Float32Array[] = [];
  let empty: { hidden: Float32Array; pooled?: Float32Array } | undefined;
  let seq = 0;
  let dim = 0;
  let pooledDim = 0;
  if (family.pipelineClass === 'StableDiffusionPipeline') {
    const pipeline = await StableDiffusionPipeline.fromPretrained(folder, { backend: options.backend });
    try {
      for (let start = 0; start < distinct.length; start += ENCODE_CHUNK) {
        const chunk = distinct.slice(start, start + ENCODE_CHUNK);
        const { cond, uncond } = await pipeline.encodePrompts(chunk, ['']);
        [, seq, dim] = cond.shape as [number, number, number];
        hiddenChunks.push(await take(cond));
        const uncondValues = await take(uncond);
        empty ??= { hidden: uncondValues };
      }
    } finally {
      await pipeline.dispose();
    }
  } else {
    const pipeline = await StableDiffusionXLPipeline.fromPretrained(folder, { backend: options.backend });
    try {
      for (let start = 0; start < distinct.length; start += ENCODE_CHUNK) {
        const chunk = distinct.slice(start, start + ENCODE_CHUNK);
        const e = await pipeline.encodePrompts(
          chunk,
          new Array<string>(chunk.length).fill(''),
          zooTimeIds(options.imageSize),
        );
        [, seq, dim] = e.cond.shape as [number, number, number];
        pooledDim = e.pooledCond.shape[1] as number;
        hiddenChunks.push(await take(e.cond));
        pooledChunks.push(await take(e.pooledCond));
        const uncond = await take(e.uncond);
        const pooledUncond = await take(e.pooledUncond);
        e.timeIds.dispose();
        empty ??= { hidden: uncond.subarray(0, seq * dim), pooled: pooledUncond.subarray(0, pooledDim) };
      }
    } finally {
      await pipeline.dispose();
    }
  }
  const rowSize = seq * dim;
  const hidden = new Float32Array((distinct.length + 1) * rowSize);
  let at = 0;
  for (const c of hiddenChunks) {
    hidden.set(c, at);
    at += c.length;
  }
  hidden.set((empty as { hidden: Float32Array }).hidden.subarray(0, rowSize), emptyRow * rowSize);
  const result: CaptionConditioning = { hidden, seq, dim, rowOf, emptyRow };
  if (pooledDim > 0) {
    const pooled = new Float32Array((distinct.length + 1) * pooledDim);
    let p = 0;
    for (const c of pooledChunks) {
      pooled.set(c, p);
      p += c.length;
    }
    pooled.set((empty as { pooled: Float32Array }).pooled.subarray(0, pooledDim), emptyRow * pooledDim);
    result.pooled = pooled;
    result.pooledDim = pooledDim;
  }
  return result;
}
