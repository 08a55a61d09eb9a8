import {
  type Guidance,
  type GuidanceContext,
  type PassOutputs,
  StableDiffusionPipeline,
  linearCombination,
} from '@noiserefine/core';

/**
 * A guidance method is an object: which forward passes a step needs, and how to combine them.
 * This one decays the CFG scale linearly from `start` to 1 over the sampling run.
 */
function decayingGuidance(start: number): Guidance {
  const scaleAt = (ctx: GuidanceContext) => 1 + (start - 1) * (1 - ctx.stepIndex / ctx.numSteps);
  return {
    name: 'decayingGuidance',
    passes: (ctx) => (scaleAt(ctx) > 1 ? ['uncond', 'cond'] : ['cond']),
    combine(outputs: PassOutputs, ctx: GuidanceContext) {
      const w = scaleAt(ctx);
      if (!outputs.uncond) return linearCombination([[1, outputs.cond]]);
      return linearCombination([
        [1 - w, outputs.uncond],
        [w, outputs.cond],
      ]);
    },
  };
}

const pipe = await StableDiffusionPipeline.fromPretrained('./models/stable-diffusion-2-1', {
  backend: 'onnxruntime-node',
});
await pipe.generate({ prompt: 'a blue circle', guidance: decayingGuidance(9), seed: 0 });
await pipe.dispose();
