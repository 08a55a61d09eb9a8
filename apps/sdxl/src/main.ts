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
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StableDiffusionXLPipeline, resolveBackend } from '@noiserefine/core';
import {
  folderGuidanceScale,
  guidanceComparisonColumns,
  loadRefiner,
  numberOption,
  promptsOption,
  samplingOptions,
  samplingValues,
  writeComparisonGrid,
  ZOO_MODELS_DIR,
  ZOO_PROMPTS,
  resolvePathOptions,
} from '@noiserefine/examples-shared';

/** diffusers' default for Stable Diffusion XL. */
const FAMILY_GUIDANCE_SCALE = 5;

const { values } = parseArgs({
  options: {
    ...samplingOptions({ model: join(ZOO_MODELS_DIR, 'tiny-sdxl'), out: 'sdxl-grid.png' }),
    prompts: { type: 'string', multiple: true },
    size: { type: 'string' },
  },
});
resolvePathOptions(values);

const prompts = promptsOption(values.prompts, ZOO_PROMPTS);
const { seed, numInferenceSteps, ...given } = samplingValues(values);
// Default: the UNet's sample_size times the VAE factor (1024 px for SDXL).
const size = values.size === undefined ? undefined : numberOption('size', values.size, (v) => v > 0);
const backend = await resolveBackend(values.backend);
const pipe = await StableDiffusionXLPipeline.fromPretrained(values.model, { backend });
const refiner = await loadRefiner(backend, values.model, values.refiner);
const guidanceScale = given.guidanceScale ?? (await folderGuidanceScale(values.model, FAMILY_GUIDANCE_SCALE));

console.log(
  `${values.model} on ${backend.name}, ${numInferenceSteps} steps, ${prompts.length} images per column`,
);
await writeComparisonGrid({
  columns: guidanceComparisonColumns({
    guidanceScale,
    refiner,
    generate: async (options) =>
      (
        await pipe.generate({
          prompt: prompts,
          seed,
          numInferenceSteps,
          height: size,
          width: size,
          refinerGuidanceScale: guidanceScale,
          ...options,
        })
      ).images,
  }),
  rowLabels: prompts,
  out: values.out,
});
await Promise.all([pipe.dispose(), refiner?.dispose()]);
