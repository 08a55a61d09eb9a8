/**
 * Rebuilds the whole zoo, in order: the dataset cache and patch autoencoders, the evaluator,
 * tiny-sit, tiny-sd21, tiny-sdxl (each a first run and a longer run started from its weights,
 * as the shipped models were made), then their refiners.
 *
 *   npm run zoo:build [-- --only dataset,evaluator,tiny-sit,tiny-sd21,tiny-sdxl,refiners] [--force]
 *
 * A stage whose output is there is skipped (--force reruns it); every training resumes from its
 * checkpoint in .cache/, and Ctrl-C lets the running job checkpoint before stopping, so rerunning
 * the command continues where it stopped. Each job's output goes to .cache/build/<stage>.log.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { InvalidArgumentError, NoiseRefineError } from '@noiserefine/core';
import { ChildRunner } from '../src/child-runner';

interface Stage {
  name: string;
  /** What the stage makes; it is skipped when all of these exist (unless --force). */
  outputs: string[];
  /** Jobs run in order from the zoo folder, each a node script with its arguments. */
  jobs: string[][];
}

const tsx = (script: string, ...args: string[]) => ['--import', 'tsx', `scripts/${script}`, ...args];

/** The shipped models' recipes: a first run, then a longer one from its weights (--init-from). */
const STAGES: Stage[] = [
  { name: 'dataset', outputs: ['.cache/dataset/dataset.json'], jobs: [tsx('build-dataset.ts')] },
  { name: 'evaluator', outputs: ['models/evaluator/config.json'], jobs: [tsx('train-evaluator.ts')] },
  {
    name: 'tiny-sit',
    outputs: ['models/tiny-sit/training.json'],
    jobs: [
      tsx('train-sit.ts', '--out', '.cache/tiny-sit-base'),
      tsx(
        'train-sit.ts',
        ...[
          '--steps',
          '3000',
          '--init-from',
          '.cache/train-sit',
          '--checkpoint-dir',
          '.cache/train-sit-long',
        ],
        ...['--checkpoint-every', '200', '--guidance-scale', '8'],
      ),
    ],
  },
  ...(
    [
      ['sd21', '1800', '.cache/train-sd21', '4'],
      ['sdxl', '2800', '.cache/train-sdxl-2800', '3'],
    ] as const
  ).map(([family, firstSteps, firstRun, guidanceScale]) => ({
    name: `tiny-${family}`,
    outputs: [`models/tiny-${family}/training.json`],
    jobs: [
      tsx(
        'train-sd.ts',
        ...['--family', family, '--steps', firstSteps],
        ...['--checkpoint-dir', firstRun, '--out', `.cache/tiny-${family}-base`],
      ),
      tsx(
        'train-sd.ts',
        ...['--family', family, '--steps', '6000', '--init-from', firstRun],
        ...['--checkpoint-dir', `.cache/train-${family}-long`, '--checkpoint-every', '200'],
        ...['--guidance-scale', guidanceScale],
      ),
    ],
  })),
  {
    name: 'refiners',
    outputs: ['tiny-sit', 'tiny-sd21', 'tiny-sdxl'].map((m) => `models/${m}/refiner/config.json`),
    jobs: [tsx('noiserefine-refiners.ts')],
  },
];

const { values } = parseArgs({
  options: { only: { type: 'string' }, force: { type: 'boolean', default: false } },
});
const names = STAGES.map((s) => s.name);
const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((name) => !names.includes(name)) ?? [];
if (unknown.length > 0) {
  throw new InvalidArgumentError(
    `--only: expected stages among ${names.join(', ')}, got ${unknown.join(', ')}`,
  );
}

const zooDir = fileURLToPath(new URL('..', import.meta.url));
const logDir = join(zooDir, '.cache', 'build');
await mkdir(logDir, { recursive: true });
const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);
const runner = new ChildRunner(log);

for (const stage of STAGES) {
  if (only && !only.includes(stage.name)) continue;
  if (stage.outputs.every((file) => existsSync(join(zooDir, file))) && !values.force) {
    log(`${stage.name}: ${stage.outputs.join(', ')} present; skipped (--force reruns it)`);
    continue;
  }
  const logFile = join(logDir, `${stage.name}.log`);
  for (const job of stage.jobs) {
    if (runner.stopping) break;
    log(`${stage.name}: node ${job.join(' ')} (log ${logFile})`);
    const { code, seconds } = await runner.run(process.execPath, job, { cwd: zooDir, logFile });
    if (code !== 0 || runner.stopping) {
      throw new NoiseRefineError(
        `${stage.name}: expected exit code 0, got ${code}${runner.stopping ? ' (interrupted; rerun to resume)' : ''}; see ${logFile}`,
      );
    }
    log(`${stage.name}: done in ${(seconds / 60).toFixed(1)} min`);
  }
}
