/**
 * NoiseRefine on the tiny zoo: FD, class accuracy, IS (the zoo evaluator) and ms per image on
 * onnxruntime-node for Gaussian noise unguided / CFG / CFG + PAG and refined noise unguided /
 * CFG, from the same seeds; the share of the guidance gap the refiner closes, its speed over
 * CFG, and the low-frequency share of its residual (paper Fig. 9).
 *
 *   npm run bench:noiserefine -- [--samples 1000] [--steps 20] [--batch 50] [--seed 0]
 *        [--pag-scale 3] [--pag-layers blocks.1] [--families tiny-sit,tiny-sd21,tiny-sdxl]
 *        [--models-dir zoo/models] [--json rows.json] [--report report.json] [--markdown out.md]
 *        [--merge]
 *
 * CFG uses each model's default guidance scale. A family whose folder is missing is skipped
 * with the reason; one without a refiner gets the Gaussian rows only. --json writes the rows, a
 * list of { family, method, fd, accuracy, isScore, msPerImage }; --report the whole report (settings,
 * rows, per-family gap fractions, speed-ups and low-frequency shares). --merge keeps the other
 * families already in the --report file (same samples, steps, seed, batch and PAG scale).
 * Relative paths are resolved against the directory npm was started from.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '@noiserefine/core';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import { Evaluator } from '../src/evaluator/evaluator';
import {
  type BenchReport,
  formatBenchMarkdown,
  formatBenchReport,
  mergeBenchReports,
} from '../src/noiserefine/bench-report';
import { ZOO_MODELS } from '../src/noiserefine/refiner-recipe';
import { runNoiseRefineBench } from '../src/noiserefine/run-bench';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '1000' },
    steps: { type: 'string', default: '20' },
    batch: { type: 'string', default: '50' },
    seed: { type: 'string', default: '0' },
    'pag-scale': { type: 'string', default: '3' },
    'pag-layers': { type: 'string' },
    families: { type: 'string', default: ZOO_MODELS.join(',') },
    'models-dir': { type: 'string' },
    json: { type: 'string' },
    report: { type: 'string' },
    markdown: { type: 'string' },
    merge: { type: 'boolean', default: false },
  },
});

const invocationDir = process.env.INIT_CWD ?? process.cwd();
const userPath = (p: string) => (isAbsolute(p) ? p : resolve(invocationDir, p));

function integer(name: string, raw: string | undefined, min: number): number {
  const v = Number(raw);
  if (raw === undefined || !Number.isInteger(v) || v < min) {
    throw new InvalidArgumentError(`--${name}: expected an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

const pagScale = Number(values['pag-scale']);
if (!(pagScale >= 0)) {
  throw new InvalidArgumentError(
    `--pag-scale: expected a number ≥ 0, got ${JSON.stringify(values['pag-scale'])}`,
  );
}
const backend = onnxruntimeNode();
const evaluator = await Evaluator.load({ backend });
try {
  const benched = await runNoiseRefineBench({
    modelsDir: values['models-dir']
      ? userPath(values['models-dir'])
      : fileURLToPath(new URL('../models', import.meta.url)),
    families: (values.families ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean),
    evaluator,
    backend,
    samples: integer('samples', values.samples, 2),
    steps: integer('steps', values.steps, 1),
    batchSize: integer('batch', values.batch, 1),
    seed: integer('seed', values.seed, 0),
    pagScale,
    ...(values['pag-layers'] ? { pagLayers: values['pag-layers'].split(',') } : {}),
    log: (m) => process.stderr.write(`${m}\n`),
  });
  const reportFile = values.report === undefined ? undefined : userPath(values.report);
  if (values.merge && reportFile === undefined) {
    throw new InvalidArgumentError('--merge: expected --report naming the report to merge into, got none');
  }
  const report =
    values.merge && reportFile !== undefined && existsSync(reportFile)
      ? mergeBenchReports(JSON.parse(await readFile(reportFile, 'utf8')) as BenchReport, benched)
      : benched;
  process.stdout.write(`\n${formatBenchReport(report)}\n`);
  const write = async (file: string, body: unknown) => {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(body, null, 2)}\n`);
    process.stdout.write(`wrote ${file}\n`);
  };
  if (values.json !== undefined) await write(userPath(values.json), report.rows);
  if (reportFile !== undefined) await write(reportFile, report);
  if (values.markdown !== undefined) {
    const file = userPath(values.markdown);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, formatBenchMarkdown(report));
    process.stdout.write(`wrote ${file}\n`);
  }
} finally {
  await evaluator.dispose();
}
