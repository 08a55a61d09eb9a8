/**
 * Samples a SiT model three ways — Gaussian noise unguided, Gaussian noise with CFG, and
 * refined noise unguided (when a refiner is given) — and writes a labelled PNG grid.
 *
 *   npx tsx src/main.ts --model ../../zoo/models/tiny-sit --out sit-grid.png
 *
 * Works on any SiT folder in the SiTPipeline layout, on any backend by name.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SiTPipeline, resolveBackend } from '@noiserefine/core';
import {
  folderGuidanceScale,
  guidanceComparisonColumns,
  loadRefiner,
  numberOption,
  samplingOptions,
  samplingValues,
  writeComparisonGrid,
  ZOO_CLASS_NAMES,
  ZOO_MODELS_DIR,
  resolvePathOptions,
} from '@noiserefine/examples-shared';

const { values } = parseArgs({
  options: {
    ...samplingOptions({ model: join(ZOO_MODELS_DIR, 'tiny-sit'), out: 'sit-grid.png' }),
    classes: { type: 'string', default: '0,3,4,7,8' },
  },
});
resolvePathOptions(values);

const labels = values.classes.split(',').map((c) => numberOption('classes', c, Number.isInteger, 'integers'));
const { seed, numInferenceSteps, ...given } = samplingValues(values);
const backend = await resolveBackend(values.backend);
const pipe = await SiTPipeline.fromPretrained(values.model, { backend });
const refiner = await loadRefiner(backend, values.model, values.refiner);
const guidanceScale =
  given.guidanceScale ?? (await folderGuidanceScale(values.model, pipe.config.guidanceScale));

console.log(
  `${values.model} on ${backend.name}, ${numInferenceSteps} steps, ${labels.length} images per column`,
);
await writeComparisonGrid({
  columns: guidanceComparisonColumns({
    guidanceScale,
    refiner,
    generate: async (options) =>
      (await pipe.generate({ classLabel: labels, seed, numInferenceSteps, ...options })).images,
  }),
  rowLabels: labels.map((label) => ZOO_CLASS_NAMES[label] ?? `class ${label}`),
  out: values.out,
});
await Promise.all([pipe.dispose(), refiner?.dispose()]);
