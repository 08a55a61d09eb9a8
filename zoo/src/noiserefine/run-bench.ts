import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AnyPipeline,
  type Backend,
  DiffusionPipeline,
  Generator,
  InvalidArgumentError,
  NoiseRefiner,
  perturbedAttentionGuidance,
} from '@noiserefine/core';
import { type Condition, loadTrainingModel } from '@noiserefine/train';
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
  type LowFrequencyProfile,
  summarizeFamily,
} from './bench-report';
import { loadPerturbedDenoiser, withPerturbedDenoiser } from './bench-pipelines';
import { lowFrequencyEnergy } from './low-frequency';
import { readZooModelInfo, zooModelMissing } from './zoo-model-folder';

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
  /** Frequency cutoffs of the low-frequency profile; the first is the headline number. */
  lowFrequencyCutoffs?: readonly number[];
  log?: (message: string) => void;
}

/**
 * Wraps a sampler to time its generate() calls. The time per image is the median over
 * batches, so a batch slowed by other work on the machine does not skew it.
 */
function timedSampler(sampler: BatchSampler): { sampler: BatchSampler; msPerImage: () => number } {
  const perImage: number[] = [];
  return {
    sampler: async (batch) => {
      const started = performance.now();
      const images = await sampler(batch);
      perImage.push((performance.now() - started) / batch.labels.length);
      return images;
    },
    msPerImage: () => {
      const sorted = [...perImage].sort((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2
        ? (sorted[mid] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    },
  };
}

interface MethodPlan {
  method: BenchMethod;
  pipeline: AnyPipeline;
  options: GenerateOverrides;
}

/** The conditions of the bench's samples, as evaluateModel draws them (labels, or captions naming them). */
function batchConditions(batch: SampleBatch, isSiT: boolean): Condition[] {
  return isSiT ? batch.labels.map((label) => ({ label })) : batch.prompts.map((prompt) => ({ prompt }));
}

/**
 * Fig. 9: the energy of the refiner's residual g(x_T, c) = x̂_T − x_T in the lowest frequencies,
 * against the Gaussian noise x_T itself, over the bench's own noises and conditions.
 */
async function refinerLowFrequency(
  dir: string,
  backend: Backend,
  refiner: NoiseRefiner,
  options: BenchOptions,
  isSiT: boolean,
): Promise<FamilySummary['lowFrequency']> {
  const cutoffs = options.lowFrequencyCutoffs ?? [0.1, 0.2, 0.3, 0.5];
  const model = await loadTrainingModel(dir, { backend });
  const batchSize = options.batchSize ?? 50;
  const seed = options.seed ?? 0;
  const labels = balancedLabels(options.samples, options.evaluator.numClasses);
  const shape = model.latentShape;
  const per = shape.reduce((a, b) => a * b, 1);
  const residuals = new Float32Array(options.samples * per);
  const noises = new Float32Array(options.samples * per);
  try {
    for (let start = 0, index = 0; start < options.samples; start += batchSize, index++) {
      const batchLabels = labels.slice(start, start + batchSize);
      const batch: SampleBatch = {
        index,
        start,
        labels: batchLabels,
        prompts: batchLabels.map((label, i) => classPrompt(label, start + i, 1)),
        seed: seed + index,
      };
      // The pipelines draw x_T as new Generator(seed).randn([B, C, H, W]); so does this.
      const noise = new Generator(batch.seed).randn([batchLabels.length, ...shape], backend.tensors);
      const conditioned = await model.conditioned(batchConditions(batch, isSiT));
      try {
        const g = await refiner.residual(noise, conditioned.spec);
        residuals.set(await g.data(), start * per);
        noises.set(await noise.data(), start * per);
        g.dispose();
      } finally {
        noise.dispose();
        conditioned.dispose();
      }
    }
  } finally {
    await model.dispose();
  }
  const batchShape = [options.samples, ...shape];
  const profile: LowFrequencyProfile[] = cutoffs.map((cutoff) => {
    const r = lowFrequencyEnergy(residuals, batchShape, cutoff);
    const n = lowFrequencyEnergy(noises, batchShape, cutoff);
    return { cutoff, residual: r.fraction, gaussian: n.fraction, binFraction: r.binFraction };
  });
  const head = cutoffs[0] as number;
  return {
    residual: lowFrequencyEnergy(residuals, batchShape, head),
    gaussian: lowFrequencyEnergy(noises, batchShape, head),
    profile,
  };
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
      for (const plan of plans) {
        const base = pipelineSampler(plan.pipeline, {
          numInferenceSteps: steps,
          generateOptions: plan.options,
        });
        // One small batch first, so session start-up is not counted in ms per image.
        await base({
          index: 0,
          start: 0,
          labels: [0, 1],
          prompts: [classPrompt(0, 0, 1), classPrompt(1, 1, 1)],
          seed: 0,
        });
        const timed = timedSampler(base);
        const result = await evaluateModel({ sampler: timed.sampler, evaluator, samples, batchSize, seed });
        const row: BenchRow = {
          family,
          method: plan.method,
          fd: result.fd,
          accuracy: result.accuracy,
          isScore: result.isScore,
          msPerImage: timed.msPerImage(),
        };
        checkBenchRow(row);
        rows.push(row);
        log(
          `${family} ${plan.method}: FD ${row.fd.toFixed(4)}, accuracy ${row.accuracy.toFixed(3)}, IS ${row.isScore.toFixed(2)}, ${row.msPerImage.toFixed(2)} ms/image`,
        );
      }
      const summary: FamilySummary = { ...summarizeFamily(rows, family, notes) };
      if (refiner) summary.lowFrequency = await refinerLowFrequency(dir, backend, refiner, options, isSiT);
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
