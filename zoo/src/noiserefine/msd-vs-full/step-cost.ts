import { Generator, InvalidArgumentError, msdLoss, type Tensor } from '@noiserefine/core';
import { AdamW, type TfjsBackend, trainStep } from '@noiserefine/tfjs';
import { type RefinerArchitecture, RefinerNetwork, unguidedEnd } from '@noiserefine/train';
import * as tf from '@tensorflow/tfjs-core';
import { balancedLabels } from '../../evaluator/evaluate-model';
import { fullLoss, stoppedEnd } from './gradient-comparison';
import { type MsdBenchModel, trajectorySetup } from './msd-bench-model';
import { median } from '../../script-helpers';

/**
 * One refiner training step, three ways: 'full' back-propagates through the N denoiser calls
 * (tfjs); 'msd' runs the trajectory forward only (tfjs, no tape) and back-propagates through the
 * refiner alone; 'msd-onnxruntime' is MSD as MsdTrainer runs it, the trajectory on the
 * inference backend.
 */
export const STEP_MODES = ['msd', 'msd-onnxruntime', 'full'] as const;
export type StepMode = (typeof STEP_MODES)[number];

export interface StepCostOptions {
  mode: StepMode;
  batchSize: number;
  numInferenceSteps: number;
  /** Timed steps after one warm-up step. */
  repeats: number;
  refiner: RefinerArchitecture;
  seed?: number;
}

export interface StepCost {
  mode: StepMode;
  batchSize: number;
  numInferenceSteps: number;
  engine: string;
  /** Wall time of each timed step. */
  seconds: number[];
  medianSeconds: number;
  /** tf.memory().numBytes before a step, and its peak during one (tf.profile). */
  tfBytesBefore: number;
  tfPeakBytes: number;
  /** Process RSS before the timed steps, and the process's peak RSS at the end (resource usage). */
  rssBeforeBytes: number;
  maxRssBytes: number;
}

/** Times one training step of the refiner in `mode` and records its memory. Run one mode per process for a clean peak RSS. */
export async function measureStepCost(
  model: MsdBenchModel,
  tfjs: TfjsBackend,
  options: StepCostOptions,
): Promise<StepCost> {
  const { mode, batchSize: b, numInferenceSteps: n } = options;
  if (!(STEP_MODES as readonly string[]).includes(mode)) {
    throw new InvalidArgumentError(
      `step cost: expected a mode in ${STEP_MODES.join(', ')}, got ${JSON.stringify(mode)}`,
    );
  }
  const labels = balancedLabels(b);
  const size = model.training.latentShape.reduce((x, y) => x * y, 1);
  const prepared = await trajectorySetup(
    model,
    tfjs,
    labels,
    new Generator(options.seed ?? 0).randnValues(b * size),
    {
      numInferenceSteps: n,
      targetSteps: 20,
    },
  );
  const { setup, noise, spec } = prepared;
  const network = await RefinerNetwork.create(model.training, options.refiner, tfjs, {
    seed: options.seed ?? 0,
  });
  const { feeds, dispose: disposeFeeds } = await network.feeds(spec, b);
  const optimizer = new AdamW({ lr: 1e-4 });
  const variables = network.variables;

  const step = async (): Promise<void> => {
    if (mode === 'full') {
      await trainStep({
        loss: () => {
          const refined = network.refine(noise, spec, feeds);
          const loss = fullLoss(setup, refined);
          refined.dispose();
          return loss;
        },
        optimizer,
        variables,
      });
      return;
    }
    let end: { final: Tensor; jacobianScale: number };
    if (mode === 'msd') {
      const refined = tfjs.tensors.wrap(
        tf.tidy(() => (network.refine(noise, spec, feeds) as unknown as { tensor: tf.Tensor }).tensor),
      );
      end = stoppedEnd(setup, refined);
      refined.dispose();
    } else {
      const values = await network.refineValues(noise, spec, feeds);
      const out = await unguidedEnd(model.training, spec, values, b, n);
      end = { final: tfjs.tensors.fromData(out.values, noise.shape), jacobianScale: out.jacobianScale };
    }
    try {
      await trainStep({
        loss: () => msdLoss(network.refine(noise, spec, feeds), end, setup.target),
        optimizer,
        variables,
      });
    } finally {
      end.final.dispose();
    }
  };

  try {
    await step();
    const rssBeforeBytes = process.memoryUsage().rss;
    const seconds: number[] = [];
    for (let i = 0; i < options.repeats; i++) {
      const started = performance.now();
      await step();
      seconds.push((performance.now() - started) / 1000);
    }
    const tfBytesBefore = tf.memory().numBytes;
    const profile = await tf.profile(step);
    return {
      mode,
      batchSize: b,
      numInferenceSteps: n,
      engine: tfjs.engineReport.engine,
      seconds,
      medianSeconds: median(seconds),
      tfBytesBefore,
      tfPeakBytes: profile.peakBytes,
      rssBeforeBytes,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    optimizer.dispose();
    disposeFeeds();
    await network.dispose();
    prepared.dispose();
  }
}
