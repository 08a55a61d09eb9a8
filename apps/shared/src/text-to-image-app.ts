import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type Backend,
  type GenerateResult,
  type PipelineLoadOptions,
  type TextToImageOptions,
  resolveBackend,
} from '@noiserefine/core';
import { guidanceComparisonColumns, writeComparisonGrid } from './comparison-grid';
import {
  folderGuidanceScale,
  loadRefiner,
  numberOption,
  promptsOption,
  resolvePathOptions,
  samplingOptions,
  samplingValues,
} from './sampling-cli';
import { ZOO_MODELS_DIR, ZOO_PROMPTS } from './zoo-defaults';

/** What the SD 2.1 and SDXL pipelines have in common for this app. */
interface TextToImagePipeline {
  generate(options: TextToImageOptions): Promise<GenerateResult>;
  dispose(): Promise<void>;
}

export interface TextToImageAppOptions {
  load(dir: string, options: PipelineLoadOptions & { backend: Backend }): Promise<TextToImagePipeline>;
  /** The zoo folder used when --model is not given, e.g. "tiny-sd21". */
  zooModel: string;
  /** diffusers' default guidance scale for the family (used when neither --guidance-scale nor zoo.json gives one). */
  familyGuidanceScale: number;
}

/**
 * The text-to-image example app: parses the command line, then writes the comparison grid
 * (Gaussian unguided | Gaussian CFG | refined unguided) for a few prompts with ms/image.
 */
export async function runTextToImageApp(app: TextToImageAppOptions): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...samplingOptions({
        model: join(ZOO_MODELS_DIR, app.zooModel),
        out: `${app.zooModel.replace(/^tiny-/, '')}-grid.png`,
      }),
      prompts: { type: 'string', multiple: true },
      size: { type: 'string' },
    },
  });
  resolvePathOptions(values);
  const prompts = promptsOption(values.prompts, ZOO_PROMPTS);
  const { seed, numInferenceSteps, ...given } = samplingValues(values);
  // Default size: the UNet's sample_size times the VAE factor, as in diffusers.
  const size = values.size === undefined ? undefined : numberOption('size', values.size, (v) => v > 0);
  const backend = await resolveBackend(values.backend);
  const pipe = await app.load(values.model, { backend });
  const refiner = await loadRefiner(backend, values.model, values.refiner);
  const guidanceScale =
    given.guidanceScale ?? (await folderGuidanceScale(values.model, app.familyGuidanceScale));
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
}
