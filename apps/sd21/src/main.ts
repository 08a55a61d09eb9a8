/**
 * Text-to-image with a Stable Diffusion 2.1 ONNX folder, three ways — Gaussian noise unguided,
 * Gaussian noise with CFG, and refined noise unguided (when a refiner is given) — written as a
 * labelled PNG grid, one row per prompt.
 *
 *   npx tsx src/main.ts --model /path/to/stable-diffusion-2-1-onnx --steps 25 --size 512
 *   npx tsx src/main.ts --prompts "a red circle on a grey background; a blue ring on a grey background"
 *
 * Default: the zoo's tiny-sd21 folder. Any optimum / diffusers ONNX export of SD 1.x/2.x works.
 */
import { StableDiffusionPipeline } from '@noiserefine/core';
import { runTextToImageApp } from '@noiserefine/examples-shared';

await runTextToImageApp({
  load: (dir, options) => StableDiffusionPipeline.fromPretrained(dir, options),
  zooModel: 'tiny-sd21',
  // diffusers' default guidance scale for Stable Diffusion 2.1.
  familyGuidanceScale: 7.5,
});
