import type { Tensor } from '../tensor/tensor';

/** The forward passes a guidance method needs, in the batch order a pipeline stacks them. */
export type GuidancePass = 'uncond' | 'cond' | 'perturbed';

/** Model outputs for one step, one entry per requested pass (each [B, …]). */
export type PassOutputs = Partial<Record<GuidancePass, Tensor>> & { cond: Tensor };

export interface GuidanceContext {
  /** The scheduler timestep of this step (train-timestep units; flow samplers use t in [0, 1]). */
  timestep: number;
  stepIndex: number;
  numSteps: number;
}

/**
 * A guidance method as an object. A pipeline asks `passes(ctx)` which forward passes
 * this step needs, batches them into one model call, then calls `combine`.
 */
export interface Guidance {
  readonly name: string;
  /** Passes needed at this step; always includes 'cond'. Fewer passes outside a guidance interval. */
  passes(ctx: GuidanceContext): readonly GuidancePass[];
  /**
   * Combines the per-pass outputs into the one output the scheduler steps with. Returns a new
   * tensor the caller owns; the outputs stay the caller's to dispose.
   */
  combine(outputs: PassOutputs, ctx: GuidanceContext): Tensor;
}
