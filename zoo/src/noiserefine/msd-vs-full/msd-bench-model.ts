import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Backend, InvalidArgumentError, SiTFlowScheduler, type Tensor, tensor } from '@noiserefine/core';
import { fixturePath } from '@noiserefine/core/testing';
import type { TfjsBackend, TfjsModel } from '@noiserefine/tfjs';
import { loadTrainingModel, sitTrainingModel, type TrainingModel } from '@noiserefine/train';
import * as tf from '@tensorflow/tfjs-core';
import { readZooModelInfo } from '../zoo-model-folder';
import type { TrajectorySetup } from './gradient-comparison';
import { type SyncDenoise, tfjsDenoise } from './tfjs-denoiser';
import { runTrajectory } from './trajectories';

/** A class-conditional SiT denoiser loaded twice: on the inference backend and on tfjs for gradients. */
export interface MsdBenchModel {
  /** The zoo folder, or "fixture". */
  source: string;
  training: TrainingModel;
  denoiser: TfjsModel;
  guidanceScale: number;
  dispose(): Promise<void>;
}

/**
 * Loads a SiT pipeline folder (the zoo's tiny-sit) or, with `dir` undefined, the core
 * fixture's tiny-sit transformer (untrained weights) with the SiT flow scheduler.
 */
export async function loadMsdBenchModel(
  dir: string | undefined,
  backend: Backend,
  tfjs: TfjsBackend,
): Promise<MsdBenchModel> {
  let training: TrainingModel;
  let guidanceScale = 4;
  if (dir !== undefined) {
    if (!existsSync(join(dir, 'model_index.json'))) {
      throw new InvalidArgumentError(
        `MSD bench: expected a pipeline folder with model_index.json, got ${dir}`,
      );
    }
    const info = await readZooModelInfo(dir);
    if (info.conditionKind !== 'label') {
      throw new InvalidArgumentError(
        `MSD bench: expected a class-conditional SiT folder, got a ${info.pipelineClass} at ${dir}`,
      );
    }
    training = await loadTrainingModel(dir, { backend });
    guidanceScale = info.guidanceScale;
  } else {
    training = await sitTrainingModel({
      backend,
      denoiserBytes: new Uint8Array(await readFile(fixturePath('tiny-sit'))),
      scheduler: new SiTFlowScheduler(),
      latentShape: [4, 8, 8],
      numClasses: 10,
      baseModel: 'tiny-sit-fixture',
    });
  }
  const denoiser = await tfjs.loadModel(training.denoiserBytes, {
    convolution: tfjs.engineReport.engine === 'wasm' ? 'patches' : 'auto',
  });
  return {
    source: dir ?? 'fixture',
    training,
    denoiser,
    guidanceScale,
    dispose: async () => {
      await denoiser.dispose();
      await training.dispose();
    },
  };
}

/** The denoiser conditioned on a batch of labels, on tfjs (cond and uncond passes). */
export async function conditionedDenoise(
  model: MsdBenchModel,
  tfjs: TfjsBackend,
  labels: readonly number[],
): Promise<{
  denoise: SyncDenoise;
  spec: Awaited<ReturnType<TrainingModel['conditioned']>>['spec'];
  dispose(): void;
}> {
  const conditioned = await model.training.conditioned(labels.map((label) => ({ label })));
  const { denoise, dispose } = await tfjsDenoise(model.denoiser, conditioned.spec, tfjs, labels.length, [
    'cond',
    'uncond',
  ]);
  return {
    denoise,
    spec: conditioned.spec,
    dispose: () => {
      dispose();
      conditioned.dispose();
    },
  };
}

/** x0_guide: the CFG-guided `steps`-step sample from `noise`, as the target generator makes it. */
export function guidedTarget(
  model: MsdBenchModel,
  tfjs: TfjsBackend,
  denoise: SyncDenoise,
  noise: Tensor,
  steps: number,
): Tensor {
  const scheduler = model.training.scheduler;
  return tfjs.tensors.wrap(
    tf.tidy(() => {
      const end = runTrajectory(scheduler, denoise, noise, steps, { guidanceScale: model.guidanceScale });
      return (end.final as unknown as { tensor: tf.Tensor }).tensor;
    }),
  );
}

/** Everything a gradient comparison needs for one batch: noise, target, the conditioned denoiser. */
export async function trajectorySetup(
  model: MsdBenchModel,
  tfjs: TfjsBackend,
  labels: readonly number[],
  noiseValues: Float32Array,
  options: { numInferenceSteps: number; targetSteps: number },
): Promise<{
  setup: TrajectorySetup;
  noise: Tensor;
  spec: Awaited<ReturnType<typeof conditionedDenoise>>['spec'];
  dispose(): void;
}> {
  const shape = [labels.length, ...model.training.latentShape];
  const noise = tensor(noiseValues, shape, tfjs.tensors);
  const conditioned = await conditionedDenoise(model, tfjs, labels);
  const target = guidedTarget(model, tfjs, conditioned.denoise, noise, options.targetSteps);
  return {
    setup: {
      tfjs,
      scheduler: model.training.scheduler,
      denoise: conditioned.denoise,
      numInferenceSteps: options.numInferenceSteps,
      target,
    },
    noise,
    spec: conditioned.spec,
    dispose: () => {
      noise.dispose();
      target.dispose();
      conditioned.dispose();
    },
  };
}
