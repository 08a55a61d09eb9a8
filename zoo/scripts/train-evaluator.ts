/**
 * Trains the zoo's evaluator (a classifier whose penultimate features give FD) with
 * tfjs, exports it to ONNX, measures it on onnxruntime and writes models/evaluator/:
 * model.onnx and config.json (training record, validation accuracy, the real-image
 * feature statistics FD is measured against, and the sanity checks).
 *
 *   npx tsx scripts/train-evaluator.ts [--steps 800] [--batch 128] [--lr 0.002] [--seed 0]
 *                                      [--dataset .cache/dataset] [--out models/evaluator]
 *                                      [--reference-count 10000] [--sanity-count 1000]
 *                                      [--engine wasm|cpu]
 *
 * Deterministic from the seed on one engine; run from the zoo folder.
 */
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveBackend } from '@noiserefine/core';
import type { EngineName } from '@noiserefine/tfjs';
import { readAutoencoder } from '../src/autoencoder/onnx-export';
import { ZOO_CLASSES } from '../src/classes';
import { DEFAULT_IMAGE_SIZE, generateDataset, type ZooDataset } from '../src/dataset';
import { readDatasetCache } from '../src/dataset-cache';
import { augmentImage, quantize8Bit } from '../src/evaluator/augment';
import {
  EVALUATOR_CONFIG_FORMAT,
  EVALUATOR_CONFIG_VERSION,
  Evaluator,
  type EvaluatorConfig,
  embedImages,
  type ReferenceStatistics,
} from '../src/evaluator/evaluator';
import { classAccuracy, featureStatistics } from '../src/evaluator/metrics';
import { runSanityChecks, sanityCases } from '../src/evaluator/sanity';
import { trainedEvaluatorModel, trainEvaluator } from '../src/evaluator/train';
import { SampleRandom } from '../src/sample-random';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '800' },
    batch: { type: 'string', default: '128' },
    lr: { type: 'string', default: '0.002' },
    seed: { type: 'string', default: '0' },
    dataset: { type: 'string', default: '.cache/dataset' },
    out: { type: 'string', default: 'models/evaluator' },
    'reference-count': { type: 'string', default: '10000' },
    'sanity-count': { type: 'string', default: '1000' },
    engine: { type: 'string' },
  },
});
const steps = Number(values.steps);
const batchSize = Number(values.batch);
const learningRate = Number(values.lr);
const seed = Number(values.seed);
const referenceCount = Number(values['reference-count']);
const sanityCount = Number(values['sanity-count']);
const outDir = resolve(values.out);
const log = (message: string) => process.stdout.write(`${message}\n`);

// Held-out ranges of the dataset's seed, far past the training images.
const VALIDATION = { start: 100_000, count: 2000 };
const REFERENCE_START = 200_000;
const SANITY_START = 300_000;

async function trainingSet(): Promise<ZooDataset> {
  const dir = resolve(values.dataset);
  try {
    await access(join(dir, 'dataset.json'));
    return await readDatasetCache(dir);
  } catch {
    log(
      `no dataset cache in ${dir}: generating 20,000 images (seed 0); run scripts/build-dataset.ts to keep one`,
    );
    return generateDataset({ seed: 0, count: 20_000 });
  }
}

const round = (v: number) => Number(v.toPrecision(7));

const train = await trainingSet();
const datasetSeed = train.seed;
const autoencoder = await readAutoencoder(resolve('models/shared/patch-vae-sd21'));
const validation = generateDataset({ seed: datasetSeed, ...VALIDATION });
log(
  `training on ${train.count} images (dataset seed ${datasetSeed}), validating on ${validation.count} held-out`,
);

const trained = await trainEvaluator({
  train,
  validation,
  autoencoder,
  steps,
  batchSize,
  learningRate,
  seed,
  ...(values.engine ? { engine: values.engine as EngineName } : {}),
  onLog: (e) =>
    log(
      `step ${e.step}: loss ${e.loss.toFixed(4)}, lr ${e.learningRate.toExponential(2)}, clean val acc ${e.validationAccuracy?.toFixed(4)}, ${e.seconds.toFixed(0)} s`,
    ),
});
log(
  `trained ${steps} steps on tfjs-${trained.engine} in ${trained.seconds.toFixed(1)} s (${trained.cpuSeconds.toFixed(1)} s CPU)`,
);

await mkdir(outDir, { recursive: true });
const modelFile = join(outDir, 'model.onnx');
await writeFile(
  modelFile,
  trainedEvaluatorModel(trained, {
    dataset: 'zoo-shapes',
    dataset_seed: String(datasetSeed),
    seed: String(seed),
  }),
);

// Everything below measures the exported file itself, on onnxruntime.
const backend = await resolveBackend('onnxruntime-node');
const model = await backend.loadModel(modelFile);
// Reference statistics: real held-out images, rounded to 8 bits as generated samples are.
const referenceImages = generateDataset({ seed: datasetSeed, start: REFERENCE_START, count: referenceCount });
const referenceOutputs = await embedImages(
  backend,
  model,
  trained.architecture,
  quantize8Bit(referenceImages.images),
);
const stats = featureStatistics(referenceOutputs.features, trained.architecture.featureDim);
const reference: ReferenceStatistics = {
  datasetSeed,
  start: REFERENCE_START,
  count: referenceCount,
  quantized8Bit: true,
  dimension: stats.dimension,
  mean: Array.from(stats.mean, round),
  covariance: Array.from(stats.covariance, round),
};
const evaluator = new Evaluator(backend, model, {
  format: EVALUATOR_CONFIG_FORMAT,
  version: EVALUATOR_CONFIG_VERSION,
  architecture: trained.architecture,
  classes: ZOO_CLASSES.map((c) => c.name),
  reference,
});

// Validation accuracy, clean and under the training augmentations (fixed draws).
const per = 3 * DEFAULT_IMAGE_SIZE ** 2;
const augmented = new Float32Array(validation.images.length);
for (let i = 0; i < validation.count; i++) {
  const image = validation.images.subarray(i * per, (i + 1) * per);
  augmented.set(augmentImage(image, new SampleRandom(seed + 2, i), autoencoder), i * per);
}
const accuracyOf = async (images: Float32Array) =>
  classAccuracy(
    (await evaluator.embed(images)).probabilities,
    validation.labels,
    trained.architecture.numClasses,
  ).accuracy;
const cleanAccuracy = await accuracyOf(quantize8Bit(validation.images));
const augmentedAccuracy = await accuracyOf(augmented);
log(
  `validation accuracy (onnxruntime): clean ${cleanAccuracy.toFixed(4)}, augmented ${augmentedAccuracy.toFixed(4)}`,
);

const heldOut = generateDataset({ seed: datasetSeed, start: SANITY_START, count: 10 * sanityCount + 1 });
const sanity = await runSanityChecks(
  evaluator,
  sanityCases(heldOut, autoencoder, { count: sanityCount, seed }),
);
log(`sanity checks on ${sanityCount} images each:`);
for (const r of sanity) {
  log(
    `  ${r.name.padEnd(18)} fd ${r.fd.toFixed(4).padStart(8)}  acc ${r.accuracy.toFixed(3)}  is ${r.isScore.toFixed(2)}`,
  );
}

const config: EvaluatorConfig = {
  ...evaluator.config,
  training: {
    command: `npx tsx scripts/train-evaluator.ts ${process.argv.slice(2).join(' ')}`.trim(),
    framework: `@noiserefine/tfjs (tfjs-${trained.engine})`,
    steps,
    ...trained.hyperparameters,
    optimizer: 'AdamW',
    schedule: 'cosine with linear warmup; gradient norm clipped at 1',
    seconds: round(trained.seconds),
    cpuSeconds: round(trained.cpuSeconds),
    finalLoss: round(trained.finalLoss),
    dataset: { seed: datasetSeed, count: train.count },
    augmentationSources: { autoencoder: 'models/shared/patch-vae-sd21', quantize8Bit: true },
    validation: {
      datasetSeed,
      ...VALIDATION,
      cleanAccuracy: round(cleanAccuracy),
      augmentedAccuracy: round(augmentedAccuracy),
    },
    history: trained.history.map((e) => ({
      step: e.step,
      loss: round(e.loss),
      validationAccuracy: e.validationAccuracy,
    })),
  },
  sanity: {
    datasetSeed,
    start: SANITY_START,
    count: sanityCount,
    results: sanity.map((r) => ({
      name: r.name,
      description: r.description,
      fd: round(r.fd),
      accuracy: round(r.accuracy),
      isScore: round(r.isScore),
    })),
  },
};
await writeFile(join(outDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
await model.dispose();
log(`wrote ${modelFile} and config.json`);
