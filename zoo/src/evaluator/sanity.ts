import { InvalidArgumentError } from '@noiserefine/core';
import type { PatchAutoencoder } from '../autoencoder/patch-autoencoder';
import { SampleRandom } from '../sample-random';
import { addGaussianNoise, gaussianBlur, jitterColour, quantize8Bit, reconstructImage } from './augment';
import type { Evaluator, SampleScores } from './evaluator';
import type { LabelledImages } from './train';

/** A set of images with the labels they claim, and what a sensible metric should say about it. */
export interface SanityCase {
  name: string;
  description: string;
  images: Float32Array;
  labels: Uint8Array;
}

/**
 * Known-good and known-bad image sets built from held-out real images: real, autoencoder
 * reconstructions, degraded copies, images labelled with the wrong class, and collapsed
 * sets (one image per class; one class). FD should rank real ≈ reconstructed ≪ degraded
 * or collapsed; accuracy should follow the fraction of correctly labelled images; IS
 * should drop to 1 for the one-class set.
 * Needs `count + 1` held-out images (the wrong-class cases borrow the next image).
 */
export function sanityCases(
  heldOut: LabelledImages,
  autoencoder: PatchAutoencoder,
  options: { count: number; seed?: number },
): SanityCase[] {
  const { count, seed = 0 } = options;
  if (heldOut.count < count + 1) {
    throw new InvalidArgumentError(
      `sanity cases: expected at least ${count + 1} held-out images, got ${heldOut.count}`,
    );
  }
  const per = heldOut.images.length / heldOut.count;
  const image = (i: number) => heldOut.images.subarray(i * per, (i + 1) * per);
  const labels = heldOut.labels.slice(0, count);
  const build = (
    name: string,
    description: string,
    f: (i: number, random: SampleRandom) => Float32Array,
    own = labels,
  ) => {
    const images = new Float32Array(count * per);
    for (let i = 0; i < count; i++) images.set(quantize8Bit(f(i, new SampleRandom(seed, i))), i * per);
    return { name, description, images, labels: own };
  };
  // Labels cycle through the classes, so image i + 1 is of the class after image i's.
  const wrongClass = (fraction: number) => (i: number) =>
    i % 100 < fraction * 100 ? image(i + 1) : image(i);
  const firstClass = Array.from({ length: heldOut.count }, (_, i) => i).filter(
    (i) => heldOut.labels[i] === 0,
  );
  return [
    build('real', 'held-out real images', (i) => image(i)),
    build('reconstructed', 'autoencoder reconstructions', (i) => reconstructImage(autoencoder, image(i))),
    build('latent-noise', 'reconstructions with N(0, 0.3²) added to the scaled latents', (i, r) =>
      reconstructImage(autoencoder, image(i), 0.3, r),
    ),
    build('noise-0.1', 'Gaussian pixel noise, std 0.1 (inside the training augmentation)', (i, r) =>
      addGaussianNoise(image(i), 0.1, r),
    ),
    build('noise-0.3', 'Gaussian pixel noise, std 0.3', (i, r) => addGaussianNoise(image(i), 0.3, r)),
    build('blur', 'Gaussian blur, sigma 1 px', (i) => gaussianBlur(image(i), 1)),
    build('noise+blur', 'blur sigma 1.5 px, then noise std 0.3', (i, r) =>
      addGaussianNoise(gaussianBlur(image(i), 1.5), 0.3, r),
    ),
    build('oversaturated', 'contrast and saturation ×1.8 (a guidance-like colour blow-out)', (i) =>
      jitterColour(image(i), { brightness: 0, contrast: 1.8, saturation: 1.8 }),
    ),
    build('ten-images', 'intra-class collapse: one image per class, repeated', (i) => image(i % 10)),
    build('wrong-class-50%', 'half the images of the next class, labels kept', wrongClass(0.5)),
    build('wrong-class-100%', 'every image of the next class, labels kept', wrongClass(1)),
    build(
      'one-class',
      'mode collapse: only images of class 0, labelled 0',
      (i) => image(firstClass[i % firstClass.length] as number),
      new Uint8Array(count).fill(0),
    ),
  ];
}

export interface SanityResult extends Omit<SampleScores, 'perClassAccuracy'> {
  name: string;
  description: string;
}

/** Scores every case with the evaluator. */
export async function runSanityChecks(
  evaluator: Evaluator,
  cases: readonly SanityCase[],
): Promise<SanityResult[]> {
  const results: SanityResult[] = [];
  for (const c of cases) {
    const { perClassAccuracy: _, ...scores } = await evaluator.score(c.images, c.labels);
    results.push({ name: c.name, description: c.description, ...scores });
  }
  return results;
}
