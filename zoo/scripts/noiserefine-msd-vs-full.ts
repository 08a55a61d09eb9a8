/**
 * MSD vs full back-propagation (paper Prop. 2, Fig. 6) on a small SiT: the unguided N-step
 * flow-Euler trajectory runs differentiably on tfjs.
 *   (a) cosine between the MSD gradient and the full one, w.r.t. x̂_T and w.r.t. a small
 *       refiner's parameters, over several samples (and for other N);
 *   (b) one noise optimised so its unguided image matches a guided sample, with each gradient
 *       (same Adam, learning rate and steps): both loss curves;
 *   (c) time and memory of one refiner training step, MSD vs full, each in its own process.
 *
 *   npm run bench:msd -- [--model tiny-sit | path | fixture] [--samples 10] [--steps 10]
 *        [--fig6-steps 100] [--fig6-lr 0.05] [--fig6-samples 1] [--batch 32] [--repeats 3]
 *        [--out docs/results]
 *
 * Default model: zoo/models/tiny-sit when present, else the core fixture's tiny-sit.
 * Writes <out>/msd-vs-full.json and <out>/msd-vs-full.md.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Generator, NoiseRefineError, type Tensor } from '@noiserefine/core';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import { tfjsBackend } from '@noiserefine/tfjs';
import { derivedSeed, type RefinerArchitecture, RefinerNetwork } from '@noiserefine/train';
import * as tf from '@tensorflow/tfjs-core';
import {
  compareInputGradients,
  compareParameterGradients,
  type GradientComparison,
} from '../src/noiserefine/msd-vs-full/gradient-comparison';
import {
  loadMsdBenchModel,
  type MsdBenchModel,
  trajectorySetup,
} from '../src/noiserefine/msd-vs-full/msd-bench-model';
import {
  formatMsdVsFullMarkdown,
  type MsdVsFullReport,
  summarizeCosines,
} from '../src/noiserefine/msd-vs-full/msd-vs-full-report';
import { optimiseNoise } from '../src/noiserefine/msd-vs-full/noise-optimisation';
import {
  measureStepCost,
  STEP_MODES,
  type StepCost,
  type StepMode,
} from '../src/noiserefine/msd-vs-full/step-cost';
import { positiveOption } from '../src/script-helpers';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    samples: { type: 'string', default: '10' },
    steps: { type: 'string', default: '10' },
    'steps-sweep': { type: 'string', default: '1,2,5,10,20' },
    'fig6-steps': { type: 'string', default: '100' },
    'fig6-lr': { type: 'string', default: '0.05' },
    'fig6-samples': { type: 'string', default: '1' },
    batch: { type: 'string', default: '32' },
    repeats: { type: 'string', default: '3' },
    out: { type: 'string', default: 'docs/results' },
    'step-cost-child': { type: 'string' },
  },
});

const zooDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = resolve(zooDir, '..');
const invocationDir = process.env.INIT_CWD ?? process.cwd();
const userPath = (p: string) => (isAbsolute(p) ? p : resolve(invocationDir, p));
const log = (m: string) => process.stderr.write(`${m}\n`);

const numInferenceSteps = positiveOption('steps', values.steps);
const targetSteps = 20;
const batchSize = positiveOption('batch', values.batch);
const repeats = positiveOption('repeats', values.repeats);
/** (a): a small standalone refiner, so its parameters are not the denoiser's. */
const comparisonRefiner: RefinerArchitecture = { kind: 'standalone', hiddenSize: 32, depth: 1 };
/** (c): the refiner the zoo ships (LoRA on the denoiser), at its training batch. */
const stepRefiner: RefinerArchitecture = { kind: 'lora', rank: 8 };
const perturbStd = 0.05;

function modelDir(): string | undefined {
  const name =
    values.model ??
    (existsSync(join(zooDir, 'models', 'tiny-sit', 'model_index.json')) ? 'tiny-sit' : 'fixture');
  if (name === 'fixture') return undefined;
  return name.includes('/') ? userPath(name) : join(zooDir, 'models', name);
}

/** Gives every all-zero trainable variable N(0, std²) values, so gradients reach every parameter. */
function perturbZeroVariables(variables: ReadonlyMap<string, tf.Variable>, std: number, seed: number): void {
  let k = 0;
  for (const v of variables.values()) {
    const isZero = tf.tidy(() => tf.max(tf.abs(v)).dataSync()[0] === 0);
    if (isZero) v.assign(tf.randomNormal(v.shape, 0, std, 'float32', seed + k++));
  }
}

async function noiseValues(model: MsdBenchModel, index: number): Promise<Float32Array> {
  const size = model.training.latentShape.reduce((a, b) => a * b, 1);
  return new Generator(derivedSeed(1234, index)).randnValues(size);
}

async function gradientAgreement(model: MsdBenchModel, tfjs: Awaited<ReturnType<typeof tfjsBackend>>) {
  const samples = positiveOption('samples', values.samples);
  const network = await RefinerNetwork.create(model.training, comparisonRefiner, tfjs, { seed: 0 });
  perturbZeroVariables(network.variables, perturbStd, 7);
  const perSample: MsdVsFullReport['gradients']['samples'] = [];
  let residualSq = 0;
  let residualCount = 0;
  const sweep = (values['steps-sweep'] ?? '')
    .split(',')
    .filter(Boolean)
    .map((s) => positiveOption('steps-sweep', s));
  const bySteps = new Map<number, GradientComparison[]>(sweep.map((n) => [n, []]));
  try {
    for (let i = 0; i < samples; i++) {
      const label = i % 10;
      const prepared = await trajectorySetup(model, tfjs, [label], await noiseValues(model, i), {
        numInferenceSteps,
        targetSteps,
      });
      const { feeds, dispose } = await network.feeds(prepared.spec, 1);
      try {
        const refine = (x: Tensor) => network.refine(x, prepared.spec, feeds);
        const refined = tfjs.tensors.wrap(
          tf.tidy(() => (refine(prepared.noise) as unknown as { tensor: tf.Tensor }).tensor),
        );
        const residual = tf.tidy(
          () =>
            tf
              .sum(
                tf.square(
                  tf.sub(
                    (refined as unknown as { tensor: tf.Tensor }).tensor,
                    (prepared.noise as unknown as { tensor: tf.Tensor }).tensor,
                  ),
                ),
              )
              .dataSync()[0] as number,
        );
        residualSq += residual;
        residualCount += prepared.noise.size;
        const input = await compareInputGradients(prepared.setup, refined);
        const parameters = await compareParameterGradients(
          prepared.setup,
          { refine, variables: network.variables },
          prepared.noise,
        );
        for (const n of sweep) {
          (bySteps.get(n) as GradientComparison[]).push(
            n === numInferenceSteps
              ? input
              : await compareInputGradients({ ...prepared.setup, numInferenceSteps: n }, refined),
          );
        }
        refined.dispose();
        perSample.push({ label, input, parameters });
        log(
          `(a) sample ${i} (label ${label}): cosine x̂_T ${input.cosine.toFixed(4)}, parameters ${parameters.cosine.toFixed(4)}`,
        );
      } finally {
        dispose();
        prepared.dispose();
      }
    }
  } finally {
    await network.dispose();
  }
  return {
    refiner: comparisonRefiner as unknown as Record<string, unknown>,
    perturbStd,
    residualRms: Math.sqrt(residualSq / Math.max(1, residualCount)),
    samples: perSample,
    input: summarizeCosines(perSample.map((s) => s.input)),
    parameters: summarizeCosines(perSample.map((s) => s.parameters)),
    bySteps: sweep.map((n) => ({
      numInferenceSteps: n,
      ...summarizeCosines(bySteps.get(n) as GradientComparison[]),
    })),
  };
}

async function noiseOptimisation(model: MsdBenchModel, tfjs: Awaited<ReturnType<typeof tfjsBackend>>) {
  const steps = positiveOption('fig6-steps', values['fig6-steps']);
  const learningRate = positiveOption('fig6-lr', values['fig6-lr'], false);
  const count = positiveOption('fig6-samples', values['fig6-samples']);
  const runs: MsdVsFullReport['noiseOptimisation']['runs'] = [];
  for (let i = 0; i < count; i++) {
    const label = (3 + i) % 10;
    const prepared = await trajectorySetup(model, tfjs, [label], await noiseValues(model, 1000 + i), {
      numInferenceSteps,
      targetSteps,
    });
    try {
      const msd = await optimiseNoise(prepared.setup, prepared.noise, { mode: 'msd', steps, learningRate });
      const full = await optimiseNoise(prepared.setup, prepared.noise, { mode: 'full', steps, learningRate });
      log(
        `(b) label ${label}: loss ${msd.loss[0]?.toFixed(4)} → MSD ${msd.loss.at(-1)?.toFixed(4)}, full ${full.loss.at(-1)?.toFixed(4)}`,
      );
      runs.push({ label, msd, full });
    } finally {
      prepared.dispose();
    }
  }
  return { optimizer: 'adam' as const, learningRate, steps, runs };
}

/** (c) runs each mode in a fresh process, so its peak RSS is its own. */
function stepCostInChild(mode: StepMode): Promise<StepCost> {
  const script = fileURLToPath(import.meta.url);
  const args = [
    ...process.execArgv,
    script,
    '--step-cost-child',
    mode,
    '--batch',
    String(batchSize),
    '--repeats',
    String(repeats),
    '--steps',
    String(numInferenceSteps),
  ];
  if (values.model) args.push('--model', values.model);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: invocationDir });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) {
        reject(
          new NoiseRefineError(
            `step cost of ${mode}: expected the child process to print a result and exit 0, got exit code ${code}`,
          ),
        );
      } else resolvePromise(JSON.parse(line) as StepCost);
    });
  });
}

const backend = onnxruntimeNode();
const tfjs = await tfjsBackend();
const model = await loadMsdBenchModel(modelDir(), backend, tfjs);
try {
  if (values['step-cost-child'] !== undefined) {
    const mode = values['step-cost-child'] as StepMode;
    const cost = await measureStepCost(model, tfjs, {
      mode,
      batchSize,
      numInferenceSteps,
      repeats,
      refiner: stepRefiner,
    });
    process.stdout.write(`${JSON.stringify(cost)}\n`);
  } else {
    const started = performance.now();
    log(`MSD vs full on ${model.source} (tfjs ${tfjs.engineReport.engine}), N = ${numInferenceSteps}`);
    const gradients = await gradientAgreement(model, tfjs);
    const optimisation = await noiseOptimisation(model, tfjs);
    const results: StepCost[] = [];
    for (const mode of STEP_MODES) {
      const cost = await stepCostInChild(mode);
      log(
        `(c) ${mode}: ${cost.medianSeconds.toFixed(2)} s/step, tf peak ${(cost.tfPeakBytes / 2 ** 20).toFixed(1)} MB, peak RSS ${(cost.maxRssBytes / 2 ** 20).toFixed(0)} MB`,
      );
      results.push(cost);
    }
    const report: MsdVsFullReport = {
      model:
        model.source === 'fixture'
          ? 'core fixture tiny-sit (untrained)'
          : model.source.replace(`${repoDir}/`, ''),
      engine: tfjs.engineReport.engine,
      numInferenceSteps,
      targetSteps,
      guidanceScale: model.guidanceScale,
      gradients,
      noiseOptimisation: optimisation,
      stepCost: { refiner: stepRefiner as unknown as Record<string, unknown>, results },
      seconds: (performance.now() - started) / 1000,
    };
    const outDir =
      values.out === 'docs/results' ? join(repoDir, 'docs', 'results') : userPath(values.out ?? '.');
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'msd-vs-full.json'), `${JSON.stringify(report, null, 2)}\n`);
    const markdown = formatMsdVsFullMarkdown(report);
    await writeFile(join(outDir, 'msd-vs-full.md'), markdown);
    process.stdout.write(`${markdown}\nwrote ${join(outDir, 'msd-vs-full.json')} and msd-vs-full.md\n`);
  }
} finally {
  await model.dispose();
}
