import { StableDiffusionPipeline, classifierFreeGuidance, guidanceInterval } from '@noiserefine/core';

const pipe = await StableDiffusionPipeline.fromPretrained('./models/stable-diffusion-2-1', {
  backend: 'onnxruntime-node',
});
const prompt = 'a blue diagonal cross on a grey background';

// The usual way: guidanceScale (diffusers' w; guidance is on iff w > 1).
await pipe.generate({ prompt, guidanceScale: 7.5, seed: 0 });

// The same as an object, with guidance rescale (φ = 0.7, for zero-SNR models).
await pipe.generate({
  prompt,
  guidance: classifierFreeGuidance({ guidanceScale: 7.5, guidanceRescale: 0.7 }),
});

// Guidance only in a limited interval of timesteps: other steps run the cond pass alone.
const cfg = classifierFreeGuidance({ guidanceScale: 7.5 });
await pipe.generate({ prompt, guidance: guidanceInterval(cfg, { start: 200, end: 800 }), seed: 0 });
await pipe.dispose();
