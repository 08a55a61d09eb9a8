import type { Model } from '../backend/model';
import { ShapeMismatchError } from '../errors';
import { disposeAll, scale } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';

/** An 8-bit RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** [B, 3, H, W] in [−1, 1] (the VAE decoder's range) → 8-bit RGB images, as diffusers' postprocess does. */
export async function tensorToImages(images: Tensor): Promise<RgbImage[]> {
  const [batch, channels, height, width] = images.shape as [number, number, number, number];
  if (images.shape.length !== 4 || channels !== 3) {
    throw new ShapeMismatchError('decoded images', ['B', 3, 'H', 'W'], images.shape);
  }
  const values = await images.data();
  const plane = height * width;
  return Array.from({ length: batch }, (_, b) => {
    const data = new Uint8Array(plane * 3);
    for (let c = 0; c < 3; c++) {
      const base = (b * 3 + c) * plane;
      for (let p = 0; p < plane; p++) {
        const v = ((values[base + p] as number) / 2 + 0.5) * 255;
        data[p * 3 + c] = Math.round(Math.min(255, Math.max(0, v)));
      }
    }
    return { width, height, data };
  });
}

/** Decodes latents with a VAE decoder (`latent_sample` → `sample`), dividing by the scaling factor first. */
export async function decodeLatents(
  vaeDecoder: Model,
  latents: Tensor,
  scalingFactor: number,
): Promise<RgbImage[]> {
  const scaled = scale(latents, 1 / scalingFactor);
  const { sample } = await vaeDecoder.run({ latent_sample: scaled }, { outputs: ['sample'] });
  const images = await tensorToImages(sample as Tensor);
  disposeAll(scaled, sample);
  return images;
}
