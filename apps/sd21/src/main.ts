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
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StableDiffusionPipeline, resolveBackend } from '@noiserefine/core';
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

/** diffusers' default for Stable Diffusion. */
const FAMILY_GUIDANCE_SCALE = 7.5;

const { values } = parseArgs({
  options: {
    ...samplingOptions({ model: join(ZOO_MODELS_DIR, 'tiny-sd21'), out: 'sd21-grid.png' }),
    prompts: { type: 'string', multiple: true },
    size: { type: 'string' },
  },
});
resolvePathOptions(values);

const prompts = promptsOption(values.prompts, ZOO_PROMPTS);
const { seed, numInferenceSteps, ...given } = samplingValues(values);
// Default: the UNet's sample_size times the VAE factor (768 px for SD 2.1).
const size = values.size === undefined ? undefined : numberOption('size', values.size, (v) => v > 0);
const backend = await resolveBackend(values.backend);
const pipe = await StableDiffusionPipeline.fromPretrained(values.model, { backend });
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
