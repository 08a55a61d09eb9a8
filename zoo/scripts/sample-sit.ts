/**
 * A quick look at a SiT: samples every class with and without guidance (20 Euler steps on
 * onnxruntime-node) and writes a labelled PNG grid, two rows per guidance scale, one class
 * per column. Works on an exported folder or on a training checkpoint in progress.
 *
 *   npx tsx scripts/sample-sit.ts [--checkpoint .cache/train-sit | --model models/tiny-sit]
 *        [--scales 1,2,4] [--steps 20] [--seed 0] [--out .cache/sit-samples.png]
 *        [--folder .cache/sit-interim]
 *
 * --folder also writes the checkpoint as a SiTPipeline folder, so zoo:eval can score a run
 * in progress. Run from the zoo folder.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { selectEngine } from '@noiserefine/tfjs';
import * as ort from 'onnxruntime-node';
import { NUM_CLASSES, ZOO_CLASSES } from '../src/classes';
import { writeImageGrid } from '../src/image-grid';
import { checkpointToOnnx } from '../src/training/sit-checkpoint';
import { writeSiTModelFolder } from '../src/training/sit-model-folder';
import { decodeLatents, sampleSiT } from '../src/training/sit-sampler';

const { values } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    model: { type: 'string' },
    vae: { type: 'string', default: 'models/shared/patch-vae-sd21' },
    scales: { type: 'string', default: '1,2,4' },
    steps: { type: 'string', default: '20' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: '.cache/sit-samples.png' },
    folder: { type: 'string' },
  },
});

const log = (message: string) => process.stdout.write(`${message}\n`);
const ROWS_PER_SCALE = 2;

let transformer: Uint8Array;
let vaeDir = resolve(values.vae);
if (values.model !== undefined) {
  const dir = resolve(values.model);
  transformer = await readFile(join(dir, 'transformer', 'model.onnx'));
  vaeDir = dir;
  log(`model ${dir}`);
} else {
  await selectEngine();
  const checkpoint = await checkpointToOnnx(resolve(values.checkpoint ?? '.cache/train-sit'));
  transformer = checkpoint.onnx;
  log(
    `checkpoint at step ${checkpoint.step}/${checkpoint.config.totalSteps} (${checkpoint.weights} weights)`,
  );
  if (values.folder !== undefined) {
    await writeSiTModelFolder(resolve(values.folder), {
      transformer,
      network: checkpoint.config.network,
      guidanceScale: Number(values.scales.split(',').at(-1)),
      vaeDir,
      training: { interim: true, steps: checkpoint.step, config: checkpoint.config },
    });
    log(`wrote the pipeline folder ${resolve(values.folder)}`);
  }
}
const vaeConfig = JSON.parse(await readFile(join(vaeDir, 'vae_decoder', 'config.json'), 'utf8')) as {
  scaling_factor: number;
  latent_channels: number;
  sample_size: number;
  patch_size: number;
};
const latentSize = vaeConfig.sample_size / vaeConfig.patch_size;
const latentShape = [vaeConfig.latent_channels, latentSize, latentSize] as const;

const session = await ort.InferenceSession.create(transformer);
const decoder = await ort.InferenceSession.create(join(vaeDir, 'vae_decoder', 'model.onnx'));
const scales = values.scales.split(',').map(Number);
const labels = Array.from({ length: ROWS_PER_SCALE * NUM_CLASSES }, (_, i) => i % NUM_CLASSES);
const images: Float32Array[] = [];
let imageDims: number[] = [];
for (const guidanceScale of scales) {
  // The same noise for every scale, so a column shows what guidance changes.
  const latents = await sampleSiT(ort, session, {
    labels,
    nullClass: NUM_CLASSES,
    guidanceScale,
    numSteps: Number(values.steps),
    seed: Number(values.seed),
    latentShape,
  });
  const decoded = await decodeLatents(ort, decoder, latents, latentShape, vaeConfig.scaling_factor);
  images.push(decoded.data);
  imageDims = decoded.dims;
  log(`guidance ${guidanceScale}: latent std ${std(latents).toFixed(3)}`);
}
const all = new Float32Array(images.reduce((n, a) => n + a.length, 0));
images.reduce((at, a) => {
  all.set(a, at);
  return at + a.length;
}, 0);
const [, c, h, w] = imageDims as [number, number, number, number];
await writeImageGrid(
  resolve(values.out),
  { data: all, shape: [scales.length * labels.length, c, h, w] },
  { rows: scales.length * ROWS_PER_SCALE, cols: NUM_CLASSES, labels: scales.flatMap(() => labels) },
);
log(
  `wrote ${resolve(values.out)}: rows = guidance ${scales.map((s) => `${s} ×${ROWS_PER_SCALE}`).join(', ')}`,
);
log(`columns: ${ZOO_CLASSES.map((k) => k.name).join(', ')}`);
await session.release();
await decoder.release();

function std(values: Float32Array): number {
  let sum = 0;
  let sq = 0;
  for (const v of values) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / values.length;
  return Math.sqrt(sq / values.length - mean * mean);
}
