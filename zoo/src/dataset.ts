import { InvalidArgumentError } from '@noiserefine/core';
import { drawAttributes, type SampleAttributes } from './attributes';
import { captionFor } from './captions';
import { NUM_CLASSES } from './classes';
import { renderImage } from './render';
import { SampleRandom } from './sample-random';

/** Image side in pixels: 16 (the default the zoo trains on) or 32. */
export const DEFAULT_IMAGE_SIZE = 16;

export interface ZooSample {
  index: number;
  label: number;
  caption: string;
  /** [3, size, size] in [-1, 1]. */
  image: Float32Array;
  attributes: SampleAttributes;
}

/**
 * Sample `index` of the dataset with this seed. Labels cycle through the classes
 * (index mod 10), so any 10 consecutive samples hold one of each class.
 */
export function generateSample(seed: number, index: number, imageSize = DEFAULT_IMAGE_SIZE): ZooSample {
  if (!Number.isInteger(index) || index < 0) {
    throw new InvalidArgumentError(`sample index: expected a non-negative integer, got ${index}`);
  }
  const random = new SampleRandom(seed, index);
  const label = index % NUM_CLASSES;
  const attributes = drawAttributes(label, random);
  const image = renderImage(attributes, imageSize, random);
  return { index, label, caption: captionFor(attributes), image, attributes };
}

export interface DatasetOptions {
  seed: number;
  count: number;
  imageSize?: number;
  /** Index of the first sample (default 0): a held-out split is another range of one seed. */
  start?: number;
}

export interface ZooDataset {
  seed: number;
  imageSize: number;
  count: number;
  /** [count, 3, size, size] in [-1, 1]. */
  images: Float32Array;
  labels: Uint8Array;
  captions: string[];
}

export function generateDataset(options: DatasetOptions): ZooDataset {
  const { seed, count, imageSize = DEFAULT_IMAGE_SIZE, start = 0 } = options;
  if (!Number.isInteger(count) || count < 1) {
    throw new InvalidArgumentError(`dataset count: expected a positive integer, got ${count}`);
  }
  if (!Number.isInteger(imageSize) || imageSize < 4) {
    throw new InvalidArgumentError(`image size: expected an integer ≥ 4, got ${imageSize}`);
  }
  const per = 3 * imageSize * imageSize;
  const images = new Float32Array(count * per);
  const labels = new Uint8Array(count);
  const captions: string[] = [];
  for (let i = 0; i < count; i++) {
    const sample = generateSample(seed, start + i, imageSize);
    images.set(sample.image, i * per);
    labels[i] = sample.label;
    captions.push(sample.caption);
  }
  return { seed, imageSize, count, images, labels, captions };
}
