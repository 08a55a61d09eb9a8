/**
 * Trains the shipped refiner of every zoo model present: guided targets with
 * `noiserefine-train targets`, then MSD (LoRA) with `noiserefine-train msd`, exported to
 * models/<model>/refiner/ (model.onnx + config.json).
 *
 *   npm run zoo:refiners [-- --models tiny-sit,tiny-sd21] [--samples 3000] [--steps 500 | tiny-sd21=1500,500]
 *        [--batch-size 32] [--rank 8] [--lr 5e-4] [--pag-scale S | tiny-sd21=S,…] [--wait] [--force]
 *
 * Work folders and logs are under .cache/refiners/<model>/ (targets/, run/, log.txt,
 * summary.json). Rerunning resumes: finished target chunks are skipped and MSD continues from
 * its checkpoint. If the model's denoiser or the settings changed, the cached work is cleared.
 * --wait polls for model folders that are not there yet (the zoo trains them in the background)
 * and takes the models in the order they become ready.
 * --force retrains a refiner that already exists.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AbortError, InvalidArgumentError, NoiseRefineError } from '@noiserefine/core';
import {
  DEFAULT_MSD_SETTINGS,
  DEFAULT_MSD_STEPS,
  DEFAULT_TARGET_SAMPLES,
  type MsdSettings,
  msdArgs,
  parsePerModel,
  type RecipePaths,
  type RefinerRecipe,
  recipeStamp,
  targetPrompts,
  targetsArgs,
  ZOO_MODELS,
} from '../src/noiserefine/refiner-recipe';
import { ChildRunner } from '../src/child-runner';
import { denoiserSha256, readZooModelInfo, zooModelMissing } from '../src/noiserefine/zoo-model-folder';
import { positiveOption } from '../src/script-helpers';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: ZOO_MODELS.join(',') },
    samples: { type: 'string', default: String(DEFAULT_TARGET_SAMPLES) },
    steps: { type: 'string', default: DEFAULT_MSD_STEPS },
    'batch-size': { type: 'string', default: String(DEFAULT_MSD_SETTINGS.batchSize) },
    rank: { type: 'string', default: String(DEFAULT_MSD_SETTINGS.rank) },
    lr: { type: 'string', default: String(DEFAULT_MSD_SETTINGS.learningRate) },
    'pag-scale': { type: 'string', default: '0' },
    'pag-layers': { type: 'string' },
    wait: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
  },
});

const zooDir = fileURLToPath(new URL('..', import.meta.url));
const cacheDir = join(zooDir, '.cache', 'refiners');
const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);

const msdSteps = parsePerModel('steps', values.steps ?? '', { integer: true, min: 1 });
const msd: MsdSettings = {
  ...DEFAULT_MSD_SETTINGS,
  batchSize: positiveOption('batch-size', values['batch-size']),
  rank: positiveOption('rank', values.rank),
  learningRate: positiveOption('lr', values.lr, false),
};
const msdFor = (model: string): MsdSettings => ({ ...msd, steps: msdSteps(model) });
const numSamples = positiveOption('samples', values.samples);
const pagScales = parsePerModel('pag-scale', values['pag-scale'] ?? '0', { integer: false, min: 0 });
const models = (values.models ?? '')
  .split(',')
  .map((m) => m.trim())
  .filter(Boolean);

const cliPath = join(
  dirname(createRequire(import.meta.url).resolve('@noiserefine/train/package.json')),
  'dist',
  'cli.js',
);
if (!existsSync(cliPath)) {
  throw new InvalidArgumentError(
    `expected the built noiserefine-train CLI at ${cliPath}: run npm run build first`,
  );
}

const runner = new ChildRunner(log);
/** Runs the CLI with its output appended to the model's log. */
const runCli = (args: string[], logFile: string) =>
  runner.run(process.execPath, [cliPath, ...args], { logFile });

async function trainRefiner(name: string): Promise<void> {
  const modelDir = join(zooDir, 'models', name);
  const info = await readZooModelInfo(modelDir);
  const refinerDir = join(modelDir, 'refiner');
  if (existsSync(join(refinerDir, 'config.json')) && !values.force) {
    log(`${name}: ${refinerDir} exists; --force retrains it`);
    return;
  }
  const work = join(cacheDir, name);
  const paths: RecipePaths = {
    modelDir,
    targetsDir: join(work, 'targets'),
    runDir: join(work, 'run'),
    refinerDir,
    promptsFile: join(work, 'prompts.txt'),
  };
  const recipe: RefinerRecipe = {
    model: name,
    conditionKind: info.conditionKind,
    numSamples,
    guidanceScale: info.guidanceScale,
    pagScale: pagScales(name),
    ...(values['pag-layers'] ? { pagLayers: values['pag-layers'].split(',') } : {}),
    targetSteps: 20,
    targetBatchSize: 32,
    msd: msdFor(name),
  };
  const stamp = recipeStamp(recipe, await denoiserSha256(info));
  const stampFile = join(work, 'stamp.json');
  const previous = existsSync(stampFile)
    ? (JSON.parse(await readFile(stampFile, 'utf8')) as Partial<typeof stamp>)
    : undefined;
  if (previous !== undefined && previous.targets !== stamp.targets) {
    log(`${name}: the denoiser or the target settings changed since the cached run; clearing ${work}`);
    await rm(work, { recursive: true, force: true });
  } else if (previous !== undefined && previous.training !== stamp.training) {
    log(
      `${name}: the MSD settings changed since the cached run; keeping the targets, clearing ${paths.runDir}`,
    );
    await rm(paths.runDir, { recursive: true, force: true });
  }
  await mkdir(work, { recursive: true });
  await writeFile(stampFile, JSON.stringify(stamp));
  if (info.conditionKind === 'prompt')
    await writeFile(paths.promptsFile, `${targetPrompts(numSamples).join('\n')}\n`);
  const logFile = join(work, 'log.txt');
  log(
    `${name}: targets (${numSamples}, CFG ${info.guidanceScale} from ${info.guidanceSource}${recipe.pagScale > 0 ? `, PAG ${recipe.pagScale}` : ''}), log ${logFile}`,
  );
  const targets = await runCli(targetsArgs(recipe, paths), logFile);
  if (targets.code !== 0) {
    throw new NoiseRefineError(`${name}: targets: expected exit code 0, got ${targets.code}; see ${logFile}`);
  }
  log(`${name}: targets done in ${(targets.seconds / 60).toFixed(1)} min; MSD ${recipe.msd.steps} steps`);
  const training = await runCli(msdArgs(recipe, paths), logFile);
  if (training.code !== 0) {
    const message = `${name}: MSD: expected exit code 0, got ${training.code}; see ${logFile}`;
    throw runner.stopping
      ? new AbortError(`${message} (interrupted; rerun to resume)`)
      : new NoiseRefineError(message);
  }
  const summary = {
    model: name,
    recipe,
    targetsMinutes: Number((targets.seconds / 60).toFixed(2)),
    msdMinutes: Number((training.seconds / 60).toFixed(2)),
    refinerDir,
    finishedAt: new Date().toISOString(),
  };
  await writeFile(join(work, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  log(`${name}: MSD done in ${summary.msdMinutes} min → ${refinerDir}`);
}

// Models are taken in the order they become ready, so one still training delays no other.
const remaining = [...models];
while (remaining.length > 0 && !runner.stopping) {
  const ready = remaining.find((name) => zooModelMissing(join(zooDir, 'models', name)) === undefined);
  if (ready !== undefined) {
    remaining.splice(remaining.indexOf(ready), 1);
    await trainRefiner(ready);
    continue;
  }
  const reasons = remaining.map((name) => zooModelMissing(join(zooDir, 'models', name)));
  if (!values.wait) {
    for (const reason of reasons) log(`skipping: ${reason}`);
    break;
  }
  log(`waiting for ${remaining.join(', ')}: ${reasons.join('; ')}`);
  await new Promise((r) => setTimeout(r, 60_000));
}
