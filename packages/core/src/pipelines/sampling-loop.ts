import { AbortError } from '../errors';
import type { Guidance, GuidanceContext, GuidancePass, PassOutputs } from '../guidance/guidance';
import type { Generator } from '../random/generator';
import type { Scheduler } from '../schedulers/scheduler';
import { disposeAll } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';

export interface ProgressEvent {
  /** 1-based index of the step just finished. */
  step: number;
  totalSteps: number;
  timestep: number;
}

export type DenoisePasses = (
  sample: Tensor,
  timestep: number,
  passes: readonly GuidancePass[],
) => Promise<PassOutputs>;

export interface SamplingLoopOptions {
  scheduler: Scheduler;
  guidance: Guidance;
  /** Initial latents, already scaled by initNoiseSigma. Not disposed by the loop. */
  latents: Tensor;
  denoise: DenoisePasses;
  eta?: number;
  generator?: Generator;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError('generation was aborted', { cause: signal.reason });
}

/**
 * The denoising loop every family shares: per step, ask the guidance which passes it
 * needs, run them, combine, and step the scheduler. The scheduler must have its
 * timesteps set. Latents stay on their backend throughout; nothing is read back.
 */
export async function runSamplingLoop(options: SamplingLoopOptions): Promise<Tensor> {
  const { scheduler, guidance, denoise, signal } = options;
  const timesteps = scheduler.timesteps;
  let x = options.latents;
  for (let i = 0; i < timesteps.length; i++) {
    throwIfAborted(signal);
    const t = timesteps[i] as number;
    const ctx: GuidanceContext = { timestep: t, stepIndex: i, numSteps: timesteps.length };
    const input = scheduler.scaleModelInput(x, t);
    const outputs = await denoise(input, t, guidance.passes(ctx));
    const guided = guidance.combine(outputs, ctx);
    const { prevSample, predOriginalSample } = scheduler.step(guided, t, x, {
      eta: options.eta,
      generator: options.generator,
    });
    const passOutputs = Object.values(outputs).filter((o) => o !== guided);
    disposeAll(guided, ...passOutputs, predOriginalSample, input === x ? undefined : input);
    if (x !== options.latents) x.dispose();
    x = prevSample;
    options.onProgress?.({ step: i + 1, totalSteps: timesteps.length, timestep: t });
  }
  return x;
}
