import { join } from 'node:path';
import { type RgbImage, tensor } from '@noiserefine/core';
import { writeFileAtomic } from '../atomic-file';
import { latentPreview, pngGrid } from '../images/png-grid';
import type { TargetSamples } from '../targets/target-mixture';
import type { TrainingModel } from '../training-model';
import type { RefinerNetwork } from './refiner-network';
import { unguidedEnd } from './unguided-trajectory';

export interface ValidationReport {
  step: number;
  /** MSE(Denoise(x̂_T), x0_guide) on the held-out samples: the MSD loss without gradients. */
  loss: number;
  /** MSE(Denoise(x_T), x0_guide): where an untrained refiner (g ≡ 0) stands. */
  baselineLoss: number;
  /** The PNG grid: rows unguided from x_T, unguided from x̂_T, guided target. */
  image?: string;
}

function meanSquaredError(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += ((a[i] as number) - (b[i] as number)) ** 2;
  return sum / a.length;
}

async function pictures(model: TrainingModel, values: Float32Array, batch: number): Promise<RgbImage[]> {
  const shape = [batch, ...model.latentShape];
  if (!model.canDecode) return latentPreview(values, shape);
  const latents = tensor(values, shape, model.backend.tensors);
  try {
    return (await model.decode(latents)) ?? [];
  } finally {
    latents.dispose();
  }
}

/** Held-out evaluation: the unguided N-step end from x̂_T against the guided target, and a picture grid. */
export async function validateRefiner(options: {
  network: RefinerNetwork;
  model: TrainingModel;
  dataset: TargetSamples;
  indices: readonly number[];
  numInferenceSteps: number;
  step: number;
  imageDir?: string;
  baseline?: { loss: number; ends: Float32Array };
}): Promise<ValidationReport & { baselineEnds: Float32Array }> {
  const { network, model, dataset, indices, numInferenceSteps } = options;
  const n = indices.length;
  const conditioned = await model.conditioned(indices.map((i) => dataset.condition(i)));
  const { feeds, dispose } = await network.feeds(
    conditioned.spec,
    n,
    network.guidanceConditioned ? dataset.gatherGuidanceScales(indices) : undefined,
  );
  const noiseValues = dataset.gatherNoises(indices);
  const targets = dataset.gatherTargets(indices);
  const noise = network.tfjs.tensors.fromData(noiseValues, [n, ...model.latentShape]);
  try {
    const refined = await network.refineValues(noise, conditioned.spec, feeds);
    const end = await unguidedEnd(model, conditioned.spec, refined, n, numInferenceSteps);
    let baseline = options.baseline;
    if (!baseline) {
      const start = await unguidedEnd(model, conditioned.spec, noiseValues, n, numInferenceSteps);
      baseline = { loss: meanSquaredError(start.values, targets), ends: start.values };
    }
    const report: ValidationReport & { baselineEnds: Float32Array } = {
      step: options.step,
      loss: meanSquaredError(end.values, targets),
      baselineLoss: baseline.loss,
      baselineEnds: baseline.ends,
    };
    if (options.imageDir) {
      const rows = [
        await pictures(model, baseline.ends, n),
        await pictures(model, end.values, n),
        await pictures(model, targets, n),
      ];
      const file = join(options.imageDir, `step-${String(options.step).padStart(6, '0')}.png`);
      await writeFileAtomic(file, pngGrid(rows));
      report.image = file;
    }
    return report;
  } finally {
    noise.dispose();
    dispose();
    conditioned.dispose();
  }
}
