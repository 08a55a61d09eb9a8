/**
 * Builds the zoo's data side: the procedural dataset cache with its latents, preview
 * grids, and the patch autoencoder shared by the zoo's latent-space models.
 *
 *   npx tsx scripts/build-dataset.ts [--seed 0] [--count 20000] [--fit-count 4000]
 *                                    [--out .cache/dataset] [--models models/shared]
 *
 * Everything is deterministic from the seed; run from the zoo folder.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fitPatchAutoencoder, reconstructionError, scaledLatentStd } from '../src/autoencoder/fit';
import { SCALING_FACTORS, writeAutoencoder } from '../src/autoencoder/onnx-export';
import { NUM_CLASSES } from '../src/classes';
import { DEFAULT_IMAGE_SIZE, generateDataset } from '../src/dataset';
import { writeDatasetCache } from '../src/dataset-cache';
import { writeImageGrid } from '../src/image-grid';

const PATCH_SIZE = 2;
const LATENT_CHANNELS = 4;
const HELD_OUT = 1000;

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '0' },
    count: { type: 'string', default: '20000' },
    'fit-count': { type: 'string', default: '4000' },
    out: { type: 'string', default: '.cache/dataset' },
    models: { type: 'string', default: 'models/shared' },
  },
});
const seed = Number(values.seed);
const count = Number(values.count);
const fitCount = Math.min(count, Number(values['fit-count']));
const outDir = resolve(values.out);
const modelsDir = resolve(values.models);
const size = DEFAULT_IMAGE_SIZE;
const per = 3 * size * size;

const log = (message: string) => process.stdout.write(`${message}\n`);
let clock = performance.now();
const lap = () => {
  const now = performance.now();
  const s = ((now - clock) / 1000).toFixed(1);
  clock = now;
  return `${s} s`;
};

const dataset = generateDataset({ seed, count, imageSize: size });
log(`generated ${count} images of ${size}×${size} (seed ${seed}) in ${lap()}`);

// Fit on the first images of the training split; measure on a held-out range of the same seed.
const geometry = { imageSize: size, patchSize: PATCH_SIZE, latentChannels: LATENT_CHANNELS };
const sd21 = fitPatchAutoencoder(dataset.images.subarray(0, fitCount * per), {
  ...geometry,
  scalingFactor: SCALING_FACTORS.sd21,
});
const sdxl = sd21.withScalingFactor(SCALING_FACTORS.sdxl);
const heldOut = generateDataset({ seed, count: HELD_OUT, imageSize: size, start: count });
const error = reconstructionError(sd21, heldOut.images);
const latentStd = scaledLatentStd(sd21, heldOut.images);
log(`fitted the ${PATCH_SIZE}×${PATCH_SIZE}-patch autoencoder on ${fitCount} images in ${lap()}`);
log(
  `held-out reconstruction: mse ${error.mse.toFixed(5)}, psnr ${error.psnr.toFixed(2)} dB, max |err| ${error.maxAbs.toFixed(3)}`,
);
log(`scaled latent std per channel: ${latentStd.map((s) => s.toFixed(3)).join(', ')}`);

const sharedMetadata = { dataset: 'zoo-shapes', dataset_seed: String(seed) };
await writeAutoencoder(join(modelsDir, 'patch-vae-sd21'), sd21, { ...sharedMetadata, family: 'sd21' });
await writeAutoencoder(join(modelsDir, 'patch-vae-sdxl'), sdxl, { ...sharedMetadata, family: 'sdxl' });
const report = {
  dataset: { seed, count, imageSize: size, classes: NUM_CLASSES },
  autoencoder: { ...geometry, fitImages: fitCount, heldOutImages: HELD_OUT },
  heldOutReconstruction: error,
  scaledLatentStd: latentStd,
};
await writeFile(join(modelsDir, 'patch-vae-report.json'), `${JSON.stringify(report, null, 2)}\n`);
log(`wrote ${join(modelsDir, 'patch-vae-sd21')} and patch-vae-sdxl in ${lap()}`);

// Scaled latents are the same for both scaling factors: whitened PCA coefficients.
const latents = sd21.encode(dataset.images).map((z) => z * SCALING_FACTORS.sd21);
await writeDatasetCache(outDir, dataset, {
  data: latents,
  channels: LATENT_CHANNELS,
  size: size / PATCH_SIZE,
});

// Previews: labels cycle through the classes, so each column of a 10-wide grid is one class.
const grid = { rows: 10, cols: NUM_CLASSES, scale: 4 };
await writeImageGrid(
  join(outDir, 'preview.png'),
  { data: dataset.images.subarray(0, 100 * per), shape: [100, 3, size, size] },
  { ...grid, labels: dataset.labels.subarray(0, 100) },
);
const originals = heldOut.images.subarray(0, 50 * per);
const recon = sd21.decode(sd21.encode(originals));
const interleaved = new Float32Array(100 * per);
for (let row = 0; row < 5; row++) {
  const block = NUM_CLASSES * per;
  interleaved.set(originals.subarray(row * block, (row + 1) * block), 2 * row * block);
  interleaved.set(recon.subarray(row * block, (row + 1) * block), (2 * row + 1) * block);
}
await writeImageGrid(
  join(outDir, 'reconstruction.png'),
  { data: interleaved, shape: [100, 3, size, size] },
  grid,
);
log(`wrote the dataset cache and previews to ${outDir} in ${lap()}`);
