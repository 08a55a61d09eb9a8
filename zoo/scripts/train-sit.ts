/**
 * Trains the zoo's class-conditional SiT (flow matching) on the cached scaled latents and
 * exports it as a SiTPipeline folder.
 *
 *   node --import tsx scripts/train-sit.ts [--steps 4000] [--batch-size 64] [--lr 1e-3] [--warmup 200]
 *        [--seed 0] [--ema 0.999] [--checkpoint-every 100] [--checkpoint-dir .cache/train-sit]
 *        [--dataset .cache/dataset] [--out models/tiny-sit] [--guidance-scale 6]
 *        [--guidance-sweep sweep.json]
 *        [--depth 4] [--width 64] [--heads 4] [--patch-size 2] [--mlp-ratio 2]
 *        [--benchmark N] [--export-only] [--engine wasm] [--init-from <checkpoint-dir>]
 *
 * Run from the zoo folder. Rerunning the same command resumes from the checkpoint (the
 * config must match); Ctrl-C or SIGTERM saves a checkpoint before exiting. --benchmark N
 * times N steps from scratch and touches no checkpoint. After a guidance sweep
 * (zoo:eval --sweep … --json sweep.json), `--export-only --guidance-scale W --guidance-sweep
 * sweep.json` rewrites the folder with that default and keeps the sweep in training.json.
 * --init-from starts a new run (fresh optimizer and schedule) from another run's weights.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type EngineName, selectEngine } from '@noiserefine/tfjs';
import { NUM_CLASSES } from '../src/classes';
import { readDatasetCache } from '../src/dataset-cache';
import { countParameters, buildSiT, TINY_SIT_CONFIG } from '../src/networks/sit';
import { type FlowMatchingBatch, FlowMatchingBatches } from '../src/training/flow-matching-batches';
import { writeSiTModelFolder } from '../src/training/sit-model-folder';
import { SiTTrainer, type SiTTrainingConfig } from '../src/training/sit-trainer';
import { startRun } from '../src/training/run-training';
import { formatDuration, TrainingClock } from '../src/training/training-clock';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '4000' },
    'batch-size': { type: 'string', default: '64' },
    lr: { type: 'string', default: '1e-3' },
    warmup: { type: 'string', default: '200' },
    'weight-decay': { type: 'string', default: '0.01' },
    seed: { type: 'string', default: '0' },
    ema: { type: 'string', default: '0.999' },
    'checkpoint-every': { type: 'string', default: '100' },
    'log-every': { type: 'string', default: '10' },
    'checkpoint-dir': { type: 'string', default: '.cache/train-sit' },
    dataset: { type: 'string', default: '.cache/dataset' },
    out: { type: 'string', default: 'models/tiny-sit' },
    vae: { type: 'string', default: 'models/shared/patch-vae-sd21' },
    'guidance-scale': { type: 'string', default: '6' },
    'guidance-sweep': { type: 'string' },
    depth: { type: 'string', default: String(TINY_SIT_CONFIG.depth) },
    width: { type: 'string', default: String(TINY_SIT_CONFIG.hiddenSize) },
    heads: { type: 'string', default: String(TINY_SIT_CONFIG.numHeads) },
    'patch-size': { type: 'string', default: String(TINY_SIT_CONFIG.patchSize) },
    'mlp-ratio': { type: 'string', default: String(TINY_SIT_CONFIG.mlpRatio) },
    benchmark: { type: 'string' },
    'export-only': { type: 'boolean', default: false },
    engine: { type: 'string' },
    'init-from': { type: 'string' },
  },
});

const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);
const command = `node --import tsx scripts/train-sit.ts ${process.argv.slice(2).join(' ')}`.trim();
const checkpointDir = resolve(values['checkpoint-dir']);
const checkpointEvery = Number(values['checkpoint-every']);
const logEvery = Number(values['log-every']);

const config: SiTTrainingConfig = {
  network: {
    ...TINY_SIT_CONFIG,
    depth: Number(values.depth),
    hiddenSize: Number(values.width),
    numHeads: Number(values.heads),
    patchSize: Number(values['patch-size']),
    mlpRatio: Number(values['mlp-ratio']),
    numClasses: NUM_CLASSES,
  },
  seed: Number(values.seed),
  batchSize: Number(values['batch-size']),
  totalSteps: Number(values.steps),
  warmupSteps: Number(values.warmup),
  learningRate: Number(values.lr),
  weightDecay: Number(values['weight-decay']),
  labelDropout: 0.1,
  emaDecay: Number(values.ema),
};

const engine = await selectEngine(values.engine ? { engine: values.engine as EngineName } : {});
log(`tfjs engine: ${engine.engine}`);
const dataset = await readDatasetCache(resolve(values.dataset));
if (!dataset.latents)
  throw new Error(`${values.dataset} holds no latents; run scripts/build-dataset.ts first`);
const { channels, size } = dataset.latents;
if (channels !== config.network.inChannels || size !== config.network.inputSize) {
  throw new Error(`the cached latents are [${channels}, ${size}, ${size}], the network expects [4, 8, 8]`);
}
const data = { latents: dataset.latents.data, labels: dataset.labels };
log(
  `SiT ${JSON.stringify(config.network)}: ${countParameters(buildSiT(config.network))} parameters; ` +
    `${dataset.count} latents`,
);

// Fixed evaluation batches from their own seed, without label dropout: comparable across steps.
const evalBatches: FlowMatchingBatch[] = (() => {
  const source = new FlowMatchingBatches({
    ...data,
    sampleSize: channels * size * size,
    batchSize: config.batchSize,
    numClasses: NUM_CLASSES,
    labelDropout: 0,
    seed: config.seed + 1_000_003,
  });
  return [0, 1, 2, 3].map((s) => source.batch(s));
})();

const trainer = new SiTTrainer(config, data);

if (values.benchmark !== undefined) {
  const n = Number(values.benchmark);
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
const initFrom = values['init-from'];
const run = await startRun({ trainer, clock, checkpointDir, command, initFrom, log });
if (!values['export-only']) {
  const finished = await run.train({ totalSteps: config.totalSteps, logEvery, checkpointEvery, evalBatches });
  if (!finished) process.exit(0);
}

if (!trainer.done) {
  log(`the run has ${trainer.step}/${config.totalSteps} steps; train to the end before exporting`);
  process.exit(1);
}
const finalEval = {
  ema: await trainer.evaluate(evalBatches, 'ema'),
  current: await trainer.evaluate(evalBatches, 'current'),
};
const out = resolve(values.out);
await writeSiTModelFolder(out, {
  transformer: await trainer.exportOnnx('ema'),
  network: config.network,
  guidanceScale: Number(values['guidance-scale']),
  vaeDir: resolve(values.vae),
  training: {
    command: run.command,
    ...(run.command === command ? {} : { exportCommand: command }),
    ...(run.initialisedFrom ? { initialisedFrom: run.initialisedFrom } : {}),
    engine: engine.engine,
    dataset: { path: values.dataset, seed: dataset.seed, count: dataset.count },
    config,
    steps: trainer.step,
    trainingSeconds: Math.round(clock.elapsedSeconds),
    finalTrainingLoss: clock.lossAverage,
    finalEvalLoss: finalEval,
    evalLossHistory: clock.evaluations,
    exportedWeights: config.emaDecay > 0 ? 'ema' : 'current',
    ...(values['guidance-sweep'] === undefined
      ? {}
      : { guidanceSweep: JSON.parse(await readFile(resolve(values['guidance-sweep']), 'utf8')) }),
  },
});
log(`exported ${out} (eval loss: EMA ${finalEval.ema.toFixed(4)}, current ${finalEval.current.toFixed(4)})`);
trainer.dispose();
