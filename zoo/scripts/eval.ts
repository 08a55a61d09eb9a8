/**
 * Scores a zoo model: generates class-balanced samples with the SDK pipeline on
 * onnxruntime-node and reports FD, class accuracy and IS from the zoo's evaluator.
 *
 *   npm run zoo:eval -- --model tiny-sit [--samples 1000] [--guidance-scale W] [--steps 20]
 *                       [--seed 0] [--batch 50] [--json out.json] [--grid samples.png]
 *   npm run zoo:eval -- --model tiny-sit --sweep 1,1.5,2,3,4,6
 *
 * --model is a folder name under zoo/models or a path. Without --guidance-scale the
 * model's default is used (zoo.json, else SiT's transformer/config.json); 1 is unguided.
 * Relative paths are resolved against the directory npm was started from.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type AnyPipeline, DiffusionPipeline, InvalidArgumentError } from '@noiserefine/core';
import { NUM_CLASSES } from '../src/classes';
import { evaluateModel, type ModelEvaluation } from '../src/evaluator/evaluate-model';
import { Evaluator } from '../src/evaluator/evaluator';
import { defaultGuidanceScale } from '../src/evaluator/model-defaults';
import { writeImageGrid } from '../src/image-grid';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    samples: { type: 'string', default: '1000' },
    'guidance-scale': { type: 'string' },
    sweep: { type: 'string' },
    steps: { type: 'string', default: '20' },
    seed: { type: 'string', default: '0' },
    batch: { type: 'string', default: '50' },
    json: { type: 'string' },
    grid: { type: 'string' },
  },
});

const log = (message: string) => process.stdout.write(`${message}\n`);
const invocationDir = process.env.INIT_CWD ?? process.cwd();
const userPath = (p: string) => (isAbsolute(p) ? p : resolve(invocationDir, p));
const modelsDir = fileURLToPath(new URL('../models', import.meta.url));

function number(
  name: string,
  raw: string | undefined,
  check: (v: number) => boolean,
  expected: string,
): number {
  const v = Number(raw);
  if (raw === undefined || !Number.isFinite(v) || !check(v)) {
    throw new InvalidArgumentError(`--${name}: expected ${expected}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

if (!values.model)
  throw new InvalidArgumentError(
    '--model: expected a zoo model (tiny-sit, tiny-sd21, tiny-sdxl) or a folder, got none',
  );
const modelDir = values.model.includes('/') ? userPath(values.model) : join(modelsDir, values.model);
const samples = number('samples', values.samples, (v) => Number.isInteger(v) && v >= 2, 'an integer ≥ 2');
const steps = number('steps', values.steps, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
const seed = number('seed', values.seed, Number.isInteger, 'an integer');
const batchSize = number('batch', values.batch, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
if (values.sweep !== undefined && values['guidance-scale'] !== undefined) {
  throw new InvalidArgumentError('--sweep and --guidance-scale: expected one of them, got both');
}

const pipeline: AnyPipeline = await DiffusionPipeline.fromPretrained(modelDir, {
  backend: 'onnxruntime-node',
});
const evaluator = await Evaluator.load({ backend: 'onnxruntime-node' });

let scales: number[];
if (values.sweep !== undefined) {
  scales = values.sweep
    .split(',')
    .map((s) => number('sweep', s.trim(), (v) => v >= 0, 'comma-separated numbers ≥ 0'));
} else if (values['guidance-scale'] !== undefined) {
  scales = [number('guidance-scale', values['guidance-scale'], (v) => v >= 0, 'a number ≥ 0')];
} else {
  const fallback = await defaultGuidanceScale(modelDir, pipeline);
  log(`guidance scale ${fallback.guidanceScale} (the model's default, from ${fallback.source})`);
  scales = [fallback.guidanceScale];
}

interface EvalRecord {
  model: string;
  guidanceScale: number;
  steps: number;
  samples: number;
  fd: number;
  accuracy: number;
  isScore: number;
  seconds: number;
  seed: number;
  perClassAccuracy: number[];
}

const records: EvalRecord[] = [];
let last: ModelEvaluation | undefined;
for (const guidanceScale of scales) {
  log(`${values.model}: ${samples} samples, guidance ${guidanceScale}, ${steps} steps, seed ${seed}`);
  last = await evaluateModel({
    pipeline,
    evaluator,
    samples,
    batchSize,
    seed,
    guidanceScale,
    numInferenceSteps: steps,
    keepImages: values.grid !== undefined,
    onProgress: (done, total) => process.stderr.write(`\r  ${done}/${total} samples`),
  });
  process.stderr.write('\n');
  records.push({
    model: values.model,
    guidanceScale,
    steps,
    samples,
    fd: last.fd,
    accuracy: last.accuracy,
    isScore: last.isScore,
    seconds: last.seconds,
    seed,
    perClassAccuracy: last.perClassAccuracy,
  });
}

const header = ['guidance', 'FD', 'accuracy', 'IS', 'seconds'];
const rows = records.map((r) => [
  r.guidanceScale.toString(),
  r.fd.toFixed(4),
  r.accuracy.toFixed(3),
  r.isScore.toFixed(2),
  r.seconds.toFixed(1),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] as number)).join('  ');
log(
  `\n${values.model} (${samples} samples, ${steps} steps; FD against ${evaluator.reference.count} real images)`,
);
log(line(header));
log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) log(line(r));

if (values.json !== undefined) {
  const file = userPath(values.json);
  await mkdir(dirname(file), { recursive: true });
  const body = records.length === 1 ? records[0] : records;
  await writeFile(file, `${JSON.stringify(body, null, 2)}\n`);
  log(`wrote ${file}`);
}
if (values.grid !== undefined && last?.images) {
  // One class per column, first ten samples of each class (the last guidance scale).
  const size = evaluator.config.architecture.imageSize;
  const shown = Math.min(samples, 10 * NUM_CLASSES);
  const file = userPath(values.grid);
  await writeImageGrid(
    file,
    { data: last.images.subarray(0, shown * 3 * size * size), shape: [shown, 3, size, size] },
    { rows: Math.ceil(shown / NUM_CLASSES), cols: NUM_CLASSES, labels: last.labels.slice(0, shown) },
  );
  log(`wrote ${file}`);
}
await evaluator.dispose();
await pipeline.dispose();
