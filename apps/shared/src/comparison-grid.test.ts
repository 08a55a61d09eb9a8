import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NoiseRefiner, RgbImage } from '@noiserefine/core';
import { Jimp } from 'jimp';
import { afterAll, describe, expect, it } from 'vitest';
import { guidanceComparisonColumns, writeComparisonGrid } from './comparison-grid';

const solid = (grey: number): RgbImage => ({ width: 4, height: 4, data: new Uint8Array(48).fill(grey) });

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function outFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nr-grid-'));
  dirs.push(dir);
  return join(dir, 'grid.png');
}

describe('guidanceComparisonColumns', () => {
  it('asks for unguided, guided and refined-unguided images, in that order', async () => {
    const calls: { guidanceScale: number; refined: boolean; steps?: number }[] = [];
    const refiner = {} as NoiseRefiner;
    const columns = guidanceComparisonColumns({
      guidanceScale: 4,
      refiner,
      generate: async (o) => {
        calls.push({
          guidanceScale: o.guidanceScale,
          refined: o.refiner === refiner,
          steps: o.numInferenceSteps,
        });
        return [];
      },
    });
    expect(columns.map((c) => c.title)).toEqual([
      'Gaussian, unguided',
      'Gaussian, CFG 4',
      'refined, unguided',
    ]);
    for (const c of columns) await c.run();
    expect(calls).toEqual([
      { guidanceScale: 1, refined: false, steps: undefined },
      { guidanceScale: 4, refined: false, steps: undefined },
      { guidanceScale: 1, refined: true, steps: undefined },
    ]);
    calls.length = 0;
    await columns[2]?.warmUp?.();
    expect(calls).toEqual([{ guidanceScale: 1, refined: true, steps: 1 }]);
  });

  it('leaves out the refined column without a refiner', () => {
    const columns = guidanceComparisonColumns({ guidanceScale: 2, generate: async () => [] });
    expect(columns.map((c) => c.title)).toEqual(['Gaussian, unguided', 'Gaussian, CFG 2']);
  });
});

describe('writeComparisonGrid', () => {
  it('warms up, times each column per image and writes a grid with one tile per row and column', async () => {
    const out = await outFile();
    const lines: string[] = [];
    const order: string[] = [];
    const timings = await writeComparisonGrid({
      columns: [
        {
          title: 'dark',
          warmUp: async () => order.push('warm-up dark'),
          run: async () => {
            order.push('dark');
            return [solid(10), solid(20), solid(30)];
          },
        },
        {
          title: 'light',
          warmUp: async () => order.push('warm-up light'),
          run: async () => {
            order.push('light');
            await new Promise((r) => setTimeout(r, 30));
            return [solid(200), solid(210), solid(220)];
          },
        },
      ],
      rowLabels: ['a', 'b', 'c'],
      out,
      log: (line) => lines.push(line),
    });
    expect(order).toEqual(['warm-up dark', 'warm-up light', 'dark', 'light']);
    expect(timings.map((t) => t.title)).toEqual(['dark', 'light']);
    // 30 ms over three images.
    expect(timings[1]?.msPerImage).toBeGreaterThanOrEqual(9);
    expect(lines[1]).toMatch(/^ {2}light +\d+\.\d ms\/image$/);
    expect(lines[2]).toBe(`wrote ${out}`);
    const grid = await Jimp.read(Buffer.from(await readFile(out)));
    // 4 px tiles are scaled to 96 px: three rows of tiles under the header.
    expect(grid.height).toBe(28 + 3 * (96 + 6) + 6);
  });

  it('rejects a column that returns the wrong number of images, naming it', async () => {
    const run = writeComparisonGrid({
      columns: [{ title: 'short', run: async () => [solid(0)] }],
      rowLabels: ['a', 'b'],
      out: await outFile(),
      log: () => {},
    });
    await expect(run).rejects.toThrow(/column "short": expected 2 images \(one per row\), got 1/);
  });
});
