import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type NoiseRefiner, type RgbImage } from '@noiserefine/core';
import { type GridRow, renderLabelledGrid } from './labelled-grid';
import { timed } from './timing';

/** One column of a comparison: a title and the sampling that fills it, one image per row. */
export interface SamplingColumn {
  title: string;
  run: () => Promise<RgbImage[]>;
  /**
   * A short untimed run of the same sampling (e.g. one step): the first model calls at a
   * batch size pay for allocation and start-up, which would otherwise land on the timing.
   */
  warmUp?: () => Promise<unknown>;
}

/**
 * What a column asks of the app: its images for a guidance scale, from Gaussian or refined
 * noise. `numInferenceSteps`, when given, overrides the app's (warm-up runs use 1).
 */
export type GenerateImages = (options: {
  guidanceScale: number;
  refiner?: NoiseRefiner;
  numInferenceSteps?: number;
}) => Promise<RgbImage[]>;

/**
 * The NoiseRefine comparison: Gaussian noise unguided, Gaussian noise with CFG, and (given a
 * refiner) refined noise unguided, all from the same seed.
 */
export function guidanceComparisonColumns(options: {
  guidanceScale: number;
  refiner?: NoiseRefiner;
  generate: GenerateImages;
}): SamplingColumn[] {
  const { guidanceScale, refiner, generate } = options;
  const column = (title: string, sampling: { guidanceScale: number; refiner?: NoiseRefiner }) => ({
    title,
    run: () => generate(sampling),
    warmUp: () => generate({ ...sampling, numInferenceSteps: 1 }),
  });
  const columns: SamplingColumn[] = [
    column('Gaussian, unguided', { guidanceScale: 1 }),
    column(`Gaussian, CFG ${guidanceScale}`, { guidanceScale }),
  ];
  if (refiner) columns.push(column('refined, unguided', { guidanceScale: 1, refiner }));
  return columns;
}

export interface ComparisonGridOptions {
  columns: readonly SamplingColumn[];
  /** One label per row; every column must return that many images. */
  rowLabels: readonly string[];
  /** Where the PNG goes. */
  out: string;
  /** Progress lines (default console.log). */
  log?: (line: string) => void;
}

export interface ColumnTiming {
  title: string;
  msPerImage: number;
}

/**
 * Warms every column up, runs them one after another, prints each one's time per image, and writes the
 * images as a labelled PNG grid (rows: rowLabels, columns: the column titles).
 */
export async function writeComparisonGrid(options: ComparisonGridOptions): Promise<ColumnTiming[]> {
  const { columns, rowLabels } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const width = Math.max(...columns.map((c) => c.title.length));
  const results: RgbImage[][] = [];
  const timings: ColumnTiming[] = [];
  for (const column of columns) await column.warmUp?.();
  for (const column of columns) {
    const { result, ms } = await timed(column.run);
    if (result.length !== rowLabels.length) {
      throw new InvalidArgumentError(
        `column "${column.title}": expected ${rowLabels.length} images (one per row), got ${result.length}`,
      );
    }
    results.push(result);
    const msPerImage = ms / rowLabels.length;
    timings.push({ title: column.title, msPerImage });
    log(`  ${column.title.padEnd(width)} ${msPerImage.toFixed(1).padStart(9)} ms/image`);
  }
  const rows: GridRow[] = rowLabels.map((label, i) => ({
    label,
    images: results.map((images) => images[i] as RgbImage),
  }));
  await writeFile(options.out, await renderLabelledGrid(rows, { columns: columns.map((c) => c.title) }));
  log(`wrote ${options.out}`);
  return timings;
}
