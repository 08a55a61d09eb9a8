import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AnyPipeline,
  type Backend,
  DiffusionPipeline,
  InvalidArgumentError,
  NoiseRefiner,
  perturbedAttentionGuidance,
} from '@noiserefine/core';
import {
  balancedLabels,
  classPrompt,
  evaluateModel,
  type GenerateOverrides,
  pipelineSampler,
  type BatchSampler,
  type SampleBatch,
} from '../evaluator/evaluate-model';
import type { Evaluator } from '../evaluator/evaluator';
import {
  type BenchMethod,
  type BenchReport,
  type BenchRow,
  checkBenchRow,
  type FamilySummary,
  summarizeFamily,
} from './bench-report';
import { loadPerturbedDenoiser, withPerturbedDenoiser } from './bench-pipelines';
import { refinerLowFrequency } from './refiner-residual';
import { readZooModelInfo, zooModelMissing } from './zoo-model-folder';
import { median } from '../script-helpers';

export interface BenchOptions {
  /** Folder holding the zoo models (<modelsDir>/<family>/, with refiner/ inside). */
  modelsDir: string;
  families: readonly string[];
  evaluator: Evaluator;
  /** Runs the pipelines (onnxruntime-node). */
  backend: Backend;
  samples: number;
  steps: number;
  batchSize?: number;
  seed?: number;
  /** PAG's s in gaussian-cfg-pag (with CFG at the model's default). */
  pagScale?: number;
  /** PAG's layers; default the transform's choice ('mid' for UNets, 'blocks.1' for transformers). */
  pagLayers?: readonly string[];
  /** Interleaved timing rounds of one batch per method (default 5); ms/image is the median. */
  timingRounds?: number;
  /** Frequency cutoffs of the low-frequency profile; the first is the headline number. */
  lowFrequencyCutoffs?: readonly number[];
  log?: (message: string) => void;
}

/**
 * ms per image of each method, timed in interleaved rounds (one batch of every method per
 * round, the median over rounds), so load from other work on the machine falls on all
 * methods alike. Each method runs one small batch first, so session start-up is not counted.
 */
async function timeMethods(
  samplers: readonly BatchSampler[],
  rounds: number,
  batchSize: number,
): Promise<number[]> {
  const batchFor = (index: number, count: number): SampleBatch => {
    const labels = balancedLabels(count);
    return {
      index,
      start: 0,
      labels,
      prompts: labels.map((label, i) => classPrompt(label, i, 1)),
      seed: 100_000 + index,
    };
  };
  for (const sampler of samplers) await sampler(batchFor(0, 2));
  const perImage: number[][] = samplers.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [k, sampler] of samplers.entries()) {
      const batch = batchFor(round, batchSize);
      const started = performance.now();
      await sampler(batch);
      (perImage[k] as number[]).push((performance.now() - started) / batch.labels.length);
    }
  }
  return perImage.map(median);
}

interface MethodPlan {
  method: BenchMethod;
  pipeline: AnyPipeline;
  options: GenerateOverrides;
}

/**
 * Benchmarks each zoo family present: FD, accuracy, IS (the zoo evaluator) and ms per image
 * for Gaussian noise unguided / CFG / CFG + PAG and refined noise unguided / CFG, from the
 * same seeds; then the gap fractions, the speed ratio and the refiner's low-frequency share.
 */
export async function runNoiseRefineBench(options: BenchOptions): Promise<BenchReport> {
  const { samples, steps, evaluator, backend } = options;
  if (!Number.isInteger(samples) || samples < 2 || !Number.isInteger(steps) || steps < 1) {
    throw new InvalidArgumentError(
      `bench: expected at least 2 samples and a positive step count, got ${samples} and ${steps}`,
    );
  }
  const log = options.log ?? (() => {});
  const pagScale = options.pagScale ?? 3;
  const batchSize = options.batchSize ?? 50;
  const seed = options.seed ?? 0;
  const rows: BenchRow[] = [];
  const families: FamilySummary[] = [];
  const skipped: BenchReport['skipped'] = [];
  const pagLayersUsed = new Set<string>();

  for (const family of options.families) {
    const dir = join(options.modelsDir, family);
    const missing = zooModelMissing(dir);
    if (missing !== undefined) {
      log(`${family}: skipped (${missing})`);
      skipped.push({ family, reason: missing });
      continue;
    }
    const info = await readZooModelInfo(dir);
    const notes: string[] = [];
    const pipeline = await DiffusionPipeline.fromPretrained(dir, { backend });
    const isSiT = info.conditionKind === 'label';
    const refinerDir = join(dir, 'refiner');
    const refiner = existsSync(join(refinerDir, 'config.json'))
      ? await NoiseRefiner.fromPretrained(refinerDir, { backend })
      : undefined;
    if (!refiner)
      notes.push(`no refiner at ${refinerDir}: refined methods left out (run npm run zoo:refiners)`);
    let perturbed: Awaited<ReturnType<typeof loadPerturbedDenoiser>> | undefined;
    try {
      perturbed = await loadPerturbedDenoiser(dir, pipeline, options.pagLayers);
      for (const l of perturbed.layers) pagLayersUsed.add(l);
    } catch (error) {
      notes.push(`gaussian-cfg-pag left out: ${(error as Error).message}`);
    }
    const w = info.guidanceScale;
    const plans: MethodPlan[] = [
      { method: 'gaussian-unguided', pipeline, options: { guidanceScale: 1 } },
      { method: 'gaussian-cfg', pipeline, options: { guidanceScale: w } },
      ...(perturbed
        ? [
            {
              method: 'gaussian-cfg-pag' as const,
              pipeline: withPerturbedDenoiser(pipeline, perturbed.model),
              options: { guidance: perturbedAttentionGuidance({ pagScale, guidanceScale: w }) },
            },
          ]
        : []),
      ...(refiner
        ? [
            { method: 'refined-unguided' as const, pipeline, options: { guidanceScale: 1, refiner } },
            { method: 'refined-cfg' as const, pipeline, options: { guidanceScale: w, refiner } },
          ]
        : []),
    ];
    try {
      const samplers = plans.map((plan) =>
        pipelineSampler(plan.pipeline, { numInferenceSteps: steps, generateOptions: plan.options }),
      );
      const scores = [];
      for (const [k, plan] of plans.entries()) {
        const result = await evaluateModel({
          sampler: samplers[k] as BatchSampler,
          evaluator,
          samples,
          batchSize,
          seed,
        });
        scores.push(result);
        log(
          `${family} ${plan.method}: FD ${result.fd.toFixed(4)}, accuracy ${result.accuracy.toFixed(3)}, IS ${result.isScore.toFixed(2)}`,
        );
      }
      const timings = await timeMethods(samplers, options.timingRounds ?? 5, batchSize);
      for (const [k, plan] of plans.entries()) {
        const result = scores[k] as (typeof scores)[number];
        const row: BenchRow = {
          family,
          method: plan.method,
          fd: result.fd,
          accuracy: result.accuracy,
          isScore: result.isScore,
          msPerImage: timings[k] as number,
        };
        checkBenchRow(row);
        rows.push(row);
        log(`${family} ${plan.method}: ${row.msPerImage.toFixed(2)} ms/image`);
      }
      const summary: FamilySummary = { ...summarizeFamily(rows, family, notes) };
      if (refiner) {
        summary.lowFrequency = await refinerLowFrequency(dir, backend, refiner, {
          samples,
          batchSize,
          seed,
          numClasses: evaluator.numClasses,
          isSiT,
          ...(options.lowFrequencyCutoffs ? { cutoffs: options.lowFrequencyCutoffs } : {}),
        });
      }
      families.push(summary);
    } finally {
      await refiner?.dispose();
      await perturbed?.model.dispose();
      await pipeline.dispose();
    }
  }
  return {
    samples,
    steps,
    seed,
    batchSize,
    pag: {
      pagScale,
      layers: options.pagLayers
        ? options.pagLayers.join(',')
        : `default (${[...pagLayersUsed].join(', ') || 'none loaded'})`,
    },
    backend: backend.name,
    rows,
    families,
    skipped,
  };
}
