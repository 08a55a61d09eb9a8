import { type Backend, Generator, type NoiseRefiner } from '@noiserefine/core';
import { type Condition, loadTrainingModel } from '@noiserefine/train';
import { balancedLabels, classPrompt, type SampleBatch } from '../evaluator/evaluate-model';
import type { FamilySummary, LowFrequencyProfile } from './bench-report';
import { lowFrequencyEnergy } from './low-frequency';

/** The bench's samples, drawn as evaluateModel draws them. */
export interface ResidualSampling {
  samples: number;
  batchSize: number;
  /** Batch b's noise seed is seed + b. */
  seed: number;
  numClasses: number;
  /** Labels (SiT) or captions naming them (text families). */
  isSiT: boolean;
  /** Frequency cutoffs of the profile; the first is the headline number (default 0.1, 0.2, 0.3, 0.5). */
  cutoffs?: readonly number[];
}

/** The conditions of the bench's samples, as evaluateModel draws them (labels, or captions naming them). */
function batchConditions(batch: SampleBatch, isSiT: boolean): Condition[] {
  return isSiT ? batch.labels.map((label) => ({ label })) : batch.prompts.map((prompt) => ({ prompt }));
}

/**
 * Fig. 9: the energy of the refiner's residual g(x_T, c) = x̂_T − x_T in the lowest frequencies,
 * against the Gaussian noise x_T itself, over the bench's own noises and conditions.
 */
export async function refinerLowFrequency(
  dir: string,
  backend: Backend,
  refiner: NoiseRefiner,
  options: ResidualSampling,
): Promise<FamilySummary['lowFrequency']> {
  const { batchSize, seed, isSiT } = options;
  const cutoffs = options.cutoffs ?? [0.1, 0.2, 0.3, 0.5];
  const model = await loadTrainingModel(dir, { backend });
  const labels = balancedLabels(options.samples, options.numClasses);
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
