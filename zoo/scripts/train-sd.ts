/**
 * Trains a tiny Stable Diffusion family (sd21: StableDiffusionPipeline, v-prediction, int64
 * timesteps; sdxl: StableDiffusionXLPipeline, two encoders, text_embeds + time_ids, epsilon,
 * scalar float timestep) on the cached scaled latents and their captions, and exports the
 * pipeline folder in the layout of a real ONNX export.
 *
 *   node --import tsx scripts/train-sd.ts --family sd21|sdxl [--steps 2800] [--batch-size 32]
 *        [--lr 1e-3] [--warmup 100] [--weight-decay 0.01] [--ema 0.995] [--caption-dropout 0.1]
 *        [--seed 0] [--checkpoint-every 100] [--log-every 10] [--checkpoint-dir .cache/train-<family>]
 *        [--dataset .cache/dataset] [--shared models/shared] [--out models/tiny-<family>]
 *        [--guidance-scale W] [--benchmark N] [--preview] [--export-only] [--engine wasm]
 *        [--init-from <checkpoint-dir of an earlier run>]
 *
 * Run from the zoo folder. The text encoders are frozen at their seeded initialisation; their
 * outputs for every caption are computed once with the SDK pipeline (onnxruntime-node), and the
 * UNet is trained on tfjs. Rerunning the same command resumes from the checkpoint (the config
 * must match); SIGINT/SIGTERM save a checkpoint first. --benchmark N times N steps from scratch;
 * --preview writes the checkpoint's weights as a pipeline folder to <checkpoint-dir>/preview
 * (for scripts/eval.ts) and exits; neither touches the checkpoint. --init-from starts a new run
 * (fresh optimizer and schedule) from another run's weights, to train a finished model longer.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '@noiserefine/core';
import { type EngineName, selectEngine } from '@noiserefine/tfjs';
import { readDatasetCache } from '../src/dataset-cache';
import { ZOO_METADATA_FILE } from '../src/evaluator/model-defaults';
import { encodeCaptions } from '../src/networks/sd-conditioning';
import { type DDPMBatch, DDPMBatches } from '../src/networks/sd-ddpm-batches';
import { sdFamily } from '../src/networks/sd-families';
import { readTextEncoders, untrainedUNet, writeSDModelFolder } from '../src/networks/sd-model-folder';
import { familyAlphasCumprod, SDTrainer, type SDTrainingConfig } from '../src/networks/sd-trainer';
import { countParameters } from '../src/networks/sit';
import { buildSDUNet } from '../src/networks/sd-unet';
import { startRun } from '../src/training/run-training';
import { formatDuration, TrainingClock } from '../src/training/training-clock';

const { values } = parseArgs({
  options: {
    family: { type: 'string' },
    steps: { type: 'string', default: '2800' },
    'batch-size': { type: 'string', default: '32' },
    lr: { type: 'string', default: '1e-3' },
    warmup: { type: 'string', default: '100' },
    'weight-decay': { type: 'string', default: '0.01' },
    ema: { type: 'string', default: '0.995' },
    'caption-dropout': { type: 'string', default: '0.1' },
    'max-grad-norm': { type: 'string', default: '1' },
    seed: { type: 'string', default: '0' },
    'checkpoint-every': { type: 'string', default: '100' },
    'log-every': { type: 'string', default: '10' },
    'checkpoint-dir': { type: 'string' },
    dataset: { type: 'string', default: '.cache/dataset' },
    shared: { type: 'string', default: 'models/shared' },
    out: { type: 'string' },
    'guidance-scale': { type: 'string' },
    benchmark: { type: 'string' },
    preview: { type: 'boolean', default: false },
    'export-only': { type: 'boolean', default: false },
    engine: { type: 'string', default: 'wasm' },
    'init-from': { type: 'string' },
  },
});

function number(name: string, check: (v: number) => boolean, expected: string): number {
  const raw = values[name as keyof typeof values];
  const v = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(v) || !check(v)) {
    throw new InvalidArgumentError(`--${name}: expected ${expected}, got ${JSON.stringify(raw)}`);
  }
  return v;
}
const positiveInteger = (v: number) => Number.isInteger(v) && v > 0;

const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);
if (!values.family) throw new InvalidArgumentError('--family: expected sd21 or sdxl, got none');
const family = sdFamily(values.family);
const command = `node --import tsx scripts/train-sd.ts ${process.argv.slice(2).join(' ')}`.trim();
const checkpointDir = resolve(values['checkpoint-dir'] ?? `.cache/train-${family.name}`);
const sharedDir = resolve(values.shared);
const out = resolve(values.out ?? `models/tiny-${family.name}`);
const checkpointEvery = number('checkpoint-every', positiveInteger, 'a positive integer');
const logEvery = number('log-every', positiveInteger, 'a positive integer');
const guidanceScale =
  values['guidance-scale'] === undefined
    ? family.defaultGuidanceScale
    : number('guidance-scale', (v) => v >= 1, 'a number ≥ 1');

const config: SDTrainingConfig = {
  family: family.name,
  seed: number('seed', Number.isInteger, 'an integer'),
  batchSize: number('batch-size', positiveInteger, 'a positive integer'),
  totalSteps: number('steps', positiveInteger, 'a positive integer'),
  warmupSteps: number('warmup', (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
  learningRate: number('lr', (v) => v > 0, 'a positive number'),
  weightDecay: number('weight-decay', (v) => v >= 0, 'a number ≥ 0'),
  emaDecay: number('ema', (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
  captionDropout: number('caption-dropout', (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
  maxGradNorm: number('max-grad-norm', (v) => v > 0, 'a positive number'),
};

const engine = await selectEngine({ engine: values.engine as EngineName });
log(`tfjs engine: ${engine.engine}`);
const dataset = await readDatasetCache(resolve(values.dataset));
if (!dataset.latents)
  throw new Error(`${values.dataset} holds no latents; run scripts/build-dataset.ts first`);
const { channels, size } = dataset.latents;
if (channels !== family.unet.inChannels || size !== family.unet.sampleSize) {
  throw new Error(
    `the cached latents are [${channels}, ${size}, ${size}], the ${family.name} UNet expects [${family.unet.inChannels}, ${family.unet.sampleSize}, ${family.unet.sampleSize}]`,
  );
}

// The frozen text encoders (and an untrained UNet) as a pipeline folder; the SDK pipeline encodes the
// captions. A resumed run reuses the folder, and the export ships these very encoder files.
const encoderFolder = join(checkpointDir, 'encoders');
if (!existsSync(join(encoderFolder, 'model_index.json'))) {
  await writeSDModelFolder(encoderFolder, { family, unet: untrainedUNet(family, config.seed), sharedDir });
}
const textEncoders = await readTextEncoders(encoderFolder, family);
const encodeStart = performance.now();
const conditioning = await encodeCaptions(encoderFolder, family, dataset.captions, {
  backend: 'onnxruntime-node',
  imageSize: dataset.imageSize,
});
log(
  `${family.name}: ${countParameters(buildSDUNet(family.unet))} UNet parameters; ${dataset.count} latents; ` +
    `${conditioning.emptyRow} distinct captions encoded to [${conditioning.seq}, ${conditioning.dim}]` +
    `${conditioning.pooledDim ? ` + pooled [${conditioning.pooledDim}]` : ''} in ${formatDuration((performance.now() - encodeStart) / 1000)}`,
);
const data = { latents: dataset.latents.data, conditioning, imageSize: dataset.imageSize };
const trainer = new SDTrainer(config, data);

// Fixed evaluation batches from their own seed, without caption dropout: comparable across steps.
const evalBatches: DDPMBatch[] = (() => {
  const source = new DDPMBatches({
    latents: data.latents,
    sampleSize: channels * size * size,
    conditioning,
    batchSize: config.batchSize,
    captionDropout: 0,
    predictionType: family.predictionType,
    alphasCumprod: familyAlphasCumprod(family),
    seed: config.seed + 1_000_003,
  });
  return [0, 1, 2, 3].map((s) => source.batch(s));
})();

if (values.benchmark !== undefined) {
  const n = number('benchmark', positiveInteger, 'a positive integer');
  await trainer.trainStep(); // warm-up: kernels, first allocations
  const started = performance.now();
  let last = 0;
  for (let i = 0; i < n; i++) last = (await trainer.trainStep()).loss;
  const perStep = (performance.now() - started) / 1000 / n;
  log(
    `benchmark: ${perStep.toFixed(3)} s/step over ${n} steps (batch ${config.batchSize}), last loss ${last.toFixed(4)}`,
  );
  log(`→ ${config.totalSteps} steps ≈ ${formatDuration(perStep * config.totalSteps)}`);
  process.exit(0);
}

const clock = new TrainingClock();
if (!existsSync(join(checkpointDir, 'checkpoint.json')) && (values.preview || values['export-only'])) {
  throw new InvalidArgumentError(`${checkpointDir} holds no checkpoint to preview or export`);
}
const initFrom = values['init-from'];
const run = await startRun({ trainer, clock, checkpointDir, command, initFrom, log });

/** training.json of an exported folder: how its weights were made. */
const trainingRecord = (evalLoss: { ema: number; current: number }) => ({
  command: run.command,
  ...(run.command === command ? {} : { exportCommand: command }),
  family: family.name,
  engine: engine.engine,
  dataset: { path: values.dataset, seed: dataset.seed, count: dataset.count },
  config,
  ...(run.initialisedFrom ? { initialisedFrom: run.initialisedFrom } : {}),
  textEncoders: 'frozen at their seeded initialisation (see sd-families.ts)',
  predictionType: family.predictionType,
  steps: trainer.step,
  trainingSeconds: Math.round(clock.elapsedSeconds),
  finalTrainingLoss: clock.lossAverage,
  finalEvalLoss: evalLoss,
  evalLossHistory: clock.evaluations,
  exportedWeights: config.emaDecay > 0 ? 'ema' : 'current',
  defaultGuidanceScale: guidanceScale,
});

async function exportFolder(dir: string): Promise<{ ema: number; current: number }> {
  const evalLoss = {
    ema: await trainer.evaluate(evalBatches, 'ema'),
    current: await trainer.evaluate(evalBatches, 'current'),
  };
  const kept = await writeSDModelFolder(dir, {
    family,
    unet: await trainer.exportUNet('ema'),
    sharedDir,
    textEncoders,
    training: trainingRecord(evalLoss),
  });
  const stale = kept.filter((name) => name !== ZOO_METADATA_FILE);
  if (stale.length > 0) {
    log(`kept ${stale.join(', ')} in ${dir}: made for the previous UNet, so retrain or remove them`);
  }
  await writeFile(
    join(dir, ZOO_METADATA_FILE),
    `${JSON.stringify({ guidance_scale: guidanceScale }, null, 2)}\n`,
  );
  return evalLoss;
}

if (values.preview) {
  const dir = join(checkpointDir, 'preview');
  const loss = await exportFolder(dir);
  log(
    `preview of step ${trainer.step} written to ${dir} (eval loss: EMA ${loss.ema.toFixed(4)}, current ${loss.current.toFixed(4)})`,
  );
  process.exit(0);
}

if (!values['export-only']) {
  const finished = await run.train({ totalSteps: config.totalSteps, logEvery, checkpointEvery, evalBatches });
  if (!finished) process.exit(0);
}

if (!trainer.done) {
  log(`the run has ${trainer.step}/${config.totalSteps} steps; train to the end before exporting`);
  process.exit(1);
}
const finalLoss = await exportFolder(out);
log(`exported ${out} (eval loss: EMA ${finalLoss.ema.toFixed(4)}, current ${finalLoss.current.toFixed(4)})`);
trainer.dispose();
