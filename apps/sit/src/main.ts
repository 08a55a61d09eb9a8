/**
 * Samples a SiT model three ways — Gaussian noise unguided, Gaussian noise with CFG, and
 * refined noise unguided (when a refiner is given) — and writes a labelled PNG grid.
 *
 *   npx tsx src/main.ts --model ../../zoo/models/tiny-sit --out sit-grid.png
 *
 * Works on any SiT folder in the SiTPipeline layout, on any backend by name.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NoiseRefiner, type RgbImage, SiTPipeline, resolveBackend } from '@noiserefine/core';
import { type GridRow, renderLabelledGrid, timed } from '@noiserefine/examples-shared';

const ZOO_SIT = resolve(import.meta.dirname, '../../../zoo/models/tiny-sit');
const CLASS_NAMES = [
  'red circle',
  'blue circle',
  'red ring',
  'blue ring',
  'red plus',
  'blue plus',
  'red cross',
  'blue cross',
  'red triangle',
  'blue triangle',
];

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: ZOO_SIT },
    refiner: { type: 'string' },
    backend: { type: 'string', default: 'onnxruntime-node' },
    classes: { type: 'string', default: '0,3,4,7,8' },
    seed: { type: 'string', default: '0' },
    steps: { type: 'string', default: '20' },
    'guidance-scale': { type: 'string' },
    out: { type: 'string', default: 'sit-grid.png' },
  },
});

const backend = await resolveBackend(values.backend as string);
const pipe = await SiTPipeline.fromPretrained(values.model as string, { backend });
const refinerDir = values.refiner ?? resolve(values.model as string, 'refiner');
const refiner = existsSync(resolve(refinerDir, 'config.json'))
  ? await NoiseRefiner.fromPretrained(refinerDir, { backend })
  : undefined;
const labels = (values.classes as string).split(',').map(Number);
const seed = Number(values.seed);
const numInferenceSteps = Number(values.steps);
const guidanceScale = values['guidance-scale'] ? Number(values['guidance-scale']) : pipe.config.guidanceScale;

const columns: { title: string; run: () => Promise<RgbImage[]> }[] = [
  {
    title: 'Gaussian, unguided',
    run: async () =>
      (await pipe.generate({ classLabel: labels, seed, numInferenceSteps, guidanceScale: 1 })).images,
  },
  {
    title: `Gaussian, CFG ${guidanceScale}`,
    run: async () =>
      (await pipe.generate({ classLabel: labels, seed, numInferenceSteps, guidanceScale })).images,
  },
];
if (refiner) {
  columns.push({
    title: 'refined, unguided',
    run: async () =>
      (await pipe.generate({ classLabel: labels, seed, numInferenceSteps, guidanceScale: 1, refiner }))
        .images,
  });
}

const results: RgbImage[][] = [];
console.log(
  `${values.model} on ${backend.name}, ${numInferenceSteps} steps, ${labels.length} images per column`,
);
for (const column of columns) {
  const { result, ms } = await timed(column.run);
  results.push(result);
  console.log(`  ${column.title.padEnd(22)} ${(ms / labels.length).toFixed(1).padStart(8)} ms/image`);
}
const rows: GridRow[] = labels.map((label, i) => ({
  label: CLASS_NAMES[label] ?? `class ${label}`,
  images: results.map((images) => images[i] as RgbImage),
}));
await writeFile(
  values.out as string,
  await renderLabelledGrid(rows, { columns: columns.map((c) => c.title) }),
);
console.log(`wrote ${values.out}`);
await pipe.dispose();
