import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidConfigError } from '@noiserefine/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAutoencoder } from '../autoencoder/onnx-export';
import { ZOO_CLASSES } from '../classes';
import { generateDataset } from '../dataset';
import { quantize8Bit } from './augment';
import { EVALUATOR_DIR, Evaluator, rgbImagesToArray } from './evaluator';
import { runSanityChecks, sanityCases } from './sanity';

let evaluator: Evaluator;
beforeAll(async () => {
  evaluator = await Evaluator.load({ backend: 'onnxruntime-node' });
});
afterAll(async () => {
  await evaluator.dispose();
});

// A held-out range of the dataset seed that neither training, validation nor the reference used.
const heldOut = generateDataset({ seed: 0, start: 600_000, count: 3001 });
const per = 3 * 16 * 16;

describe('the shipped evaluator', () => {
  it('describes itself: classes, architecture and reference statistics from ≥ 5,000 real images', () => {
    const { config, reference } = evaluator;
    expect(config.classes).toEqual(ZOO_CLASSES.map((c) => c.name));
    expect(reference.dimension).toBe(config.architecture.featureDim);
    expect(reference.count).toBeGreaterThanOrEqual(5000);
    expect(config.reference.quantized8Bit).toBe(true);
    expect(config.training).toMatchObject({
      steps: expect.any(Number),
      command: expect.stringContaining('train-evaluator'),
    });
  });

  it('classifies held-out real images and gives unit-length features', async () => {
    const images = quantize8Bit(heldOut.images.subarray(0, 500 * per));
    const out = await evaluator.embed(images, { batchSize: 128 });
    expect(out.count).toBe(500);
    const d = evaluator.config.architecture.featureDim;
    for (let n = 0; n < 500; n += 50) {
      expect(Math.hypot(...out.features.subarray(n * d, (n + 1) * d))).toBeCloseTo(1, 4);
      const row = out.probabilities.subarray(n * 10, (n + 1) * 10);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    const scores = await evaluator.score(images, heldOut.labels.subarray(0, 500));
    expect(scores.accuracy).toBeGreaterThan(0.98);
    expect(scores.isScore).toBeGreaterThan(9);
  });

  it('reads 8-bit RGB images as the same [−1, 1] tensor layout', async () => {
    const image = quantize8Bit(heldOut.images.subarray(0, per));
    const data = new Uint8Array(per);
    for (let p = 0; p < 256; p++)
      for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.round(((image[c * 256 + p] as number) + 1) * 127.5);
    const array = rgbImagesToArray([{ width: 16, height: 16, data }]);
    for (let i = 0; i < per; i++) expect(array[i]).toBeCloseTo(image[i] as number, 6);
    expect(() => rgbImagesToArray([])).toThrow(/at least one image/);
    expect(() =>
      rgbImagesToArray([
        { width: 16, height: 16, data },
        { width: 8, height: 8, data: new Uint8Array(192) },
      ]),
    ).toThrow(/image 1: expected shape \[16, 16, 3\], got \[8, 8, 3\]/);
  });

  it('ranks the sanity cases: real ≈ reconstructed ≪ degraded or collapsed; accuracy follows the labels', async () => {
    const autoencoder = await readAutoencoder(
      resolve(import.meta.dirname, '../../models/shared/patch-vae-sd21'),
    );
    const results = await runSanityChecks(evaluator, sanityCases(heldOut, autoencoder, { count: 300 }));
    const by = Object.fromEntries(results.map((r) => [r.name, r]));
    const fd = (name: string) => by[name]?.fd as number;
    expect(fd('reconstructed')).toBeLessThan(4 * fd('real') + 0.002);
    for (const degraded of ['blur', 'noise+blur', 'ten-images', 'one-class']) {
      expect(fd(degraded)).toBeGreaterThan(5 * fd('reconstructed'));
    }
    expect(fd('noise+blur')).toBeGreaterThan(fd('noise-0.3'));
    expect(fd('one-class')).toBeGreaterThan(fd('ten-images'));
    expect(by.real?.accuracy).toBeGreaterThan(0.98);
    expect(by['wrong-class-50%']?.accuracy).toBeCloseTo(0.5, 1);
    expect(by['wrong-class-100%']?.accuracy).toBeLessThan(0.02);
    expect(by['one-class']?.isScore).toBeLessThan(1.2);
  });

  it('rejects a config whose reference statistics do not match the features', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zoo-evaluator-'));
    const config = JSON.parse(await readFile(join(EVALUATOR_DIR, 'config.json'), 'utf8'));
    config.reference.mean = config.reference.mean.slice(1);
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    await copyFile(join(EVALUATOR_DIR, 'model.onnx'), join(dir, 'model.onnx'));
    await expect(Evaluator.load({ backend: 'onnxruntime-node', dir })).rejects.toThrow(InvalidConfigError);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, format: 'something-else' }));
    await expect(Evaluator.load({ backend: 'onnxruntime-node', dir })).rejects.toThrow(/"format"/);
  });
});
