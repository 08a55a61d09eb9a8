import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidConfigError, ModelLoadError } from '@noiserefine/core';
import { ZOO_CLASSES } from './classes';
import type { ZooDataset } from './dataset';

/**
 * A dataset on disk: raw little-endian arrays plus a JSON header, read back without
 * parsing per sample. Captions are one per line (the grammar never writes a newline).
 */
export const DATASET_CACHE_FORMAT = 'noiserefine-zoo-dataset';
export const DATASET_CACHE_VERSION = 1;

export interface CachedLatents {
  /** [count, channels, size, size], already multiplied by the autoencoder's scaling factor. */
  data: Float32Array;
  channels: number;
  size: number;
}

export interface CachedDataset extends ZooDataset {
  latents?: CachedLatents;
}

interface CacheHeader {
  format: string;
  version: number;
  seed: number;
  count: number;
  imageSize: number;
  classes: string[];
  latents?: { channels: number; size: number };
}

const bytesOf = (a: Float32Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export async function writeDatasetCache(
  dir: string,
  dataset: ZooDataset,
  latents?: CachedLatents,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const header: CacheHeader = {
    format: DATASET_CACHE_FORMAT,
    version: DATASET_CACHE_VERSION,
    seed: dataset.seed,
    count: dataset.count,
    imageSize: dataset.imageSize,
    classes: ZOO_CLASSES.map((c) => c.name),
    ...(latents ? { latents: { channels: latents.channels, size: latents.size } } : {}),
  };
  await writeFile(join(dir, 'dataset.json'), `${JSON.stringify(header, null, 2)}\n`);
  await writeFile(join(dir, 'images.f32'), bytesOf(dataset.images));
  await writeFile(join(dir, 'labels.u8'), dataset.labels);
  await writeFile(join(dir, 'captions.txt'), `${dataset.captions.join('\n')}\n`);
  if (latents) await writeFile(join(dir, 'latents.f32'), bytesOf(latents.data));
}

async function readFloats(file: string, expected: number): Promise<Float32Array> {
  const bytes = await readFile(file);
  if (bytes.byteLength !== expected * 4) {
    throw new ModelLoadError(file, `expected ${expected} float32 values, found ${bytes.byteLength} bytes`);
  }
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export async function readDatasetCache(dir: string): Promise<CachedDataset> {
  const headerFile = join(dir, 'dataset.json');
  const header = JSON.parse(await readFile(headerFile, 'utf8')) as CacheHeader;
  if (header.format !== DATASET_CACHE_FORMAT || header.version !== DATASET_CACHE_VERSION) {
    throw new InvalidConfigError(
      'format',
      `"${DATASET_CACHE_FORMAT}" version ${DATASET_CACHE_VERSION}`,
      `${header.format} ${header.version}`,
      { source: headerFile },
    );
  }
  const { seed, count, imageSize } = header;
  const images = await readFloats(join(dir, 'images.f32'), count * 3 * imageSize * imageSize);
  const labels = new Uint8Array(await readFile(join(dir, 'labels.u8')));
  const captions = (await readFile(join(dir, 'captions.txt'), 'utf8')).split('\n').slice(0, count);
  if (labels.length !== count || captions.length !== count) {
    throw new ModelLoadError(
      dir,
      `expected ${count} labels and captions, found ${labels.length} and ${captions.length}`,
    );
  }
  const dataset: CachedDataset = { seed, count, imageSize, images, labels, captions };
  if (header.latents) {
    const { channels, size } = header.latents;
    dataset.latents = {
      channels,
      size,
      data: await readFloats(join(dir, 'latents.f32'), count * channels * size * size),
    };
  }
  return dataset;
}
