import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDataset } from './dataset';
import { readDatasetCache, writeDatasetCache } from './dataset-cache';

describe('dataset cache', () => {
  it('round-trips images, labels, captions and latents', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zoo-cache-'));
    const dataset = generateDataset({ seed: 3, count: 25 });
    const latents = {
      data: Float32Array.from({ length: 25 * 4 * 8 * 8 }, (_, i) => i / 7),
      channels: 4,
      size: 8,
    };
    await writeDatasetCache(dir, dataset, latents);
    const back = await readDatasetCache(dir);
    expect(back.images).toEqual(dataset.images);
    expect(back.labels).toEqual(dataset.labels);
    expect(back.captions).toEqual(dataset.captions);
    expect(back.latents).toEqual(latents);
    expect([back.seed, back.count, back.imageSize]).toEqual([3, 25, 16]);
  });

  it('rejects a truncated or foreign cache', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zoo-cache-'));
    await writeDatasetCache(dir, generateDataset({ seed: 3, count: 5 }));
    await writeFile(join(dir, 'images.f32'), new Uint8Array(12));
    await expect(readDatasetCache(dir)).rejects.toThrow(/expected 3840 float32 values, found 12 bytes/);
    await writeFile(join(dir, 'dataset.json'), '{"format":"other","version":1}');
    await expect(readDatasetCache(dir)).rejects.toThrow(/Invalid config key "format"/);
  });
});
