/**
 * Text-to-image with a Stable Diffusion XL ONNX folder, three ways — Gaussian noise unguided,
 * Gaussian noise with CFG, and refined noise unguided (when a refiner is given) — written as a
 * labelled PNG grid, one row per prompt.
 *
 *   npx tsx src/main.ts --model /path/to/stable-diffusion-xl-base-1.0-onnx --steps 25 --size 768
 *   npx tsx src/main.ts --prompts "a red circle on a grey background; a blue ring on a grey background"
 *
 * Default: the zoo's tiny-sdxl folder. Any optimum / diffusers ONNX export of SDXL works.
 */
import { StableDiffusionXLPipeline } from '@noiserefine/core';
import { runTextToImageApp } from '@noiserefine/examples-shared';

await runTextToImageApp({
  load: (dir, options) => StableDiffusionXLPipeline.fromPretrained(dir, options),
  zooModel: 'tiny-sdxl',
  // diffusers' default guidance scale for Stable Diffusion XL.
  familyGuidanceScale: 5,
});
