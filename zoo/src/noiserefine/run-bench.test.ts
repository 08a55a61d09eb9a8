import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Evaluator } from '../evaluator/evaluator';
import {
  BENCH_METHODS,
  type BenchReport,
  checkBenchRow,
  formatBenchMarkdown,
  formatBenchReport,
} from './bench-report';
import { runNoiseRefineBench } from './run-bench';
import { writeFixtureZoo } from './test-support/fixture-zoo';

describe('runNoiseRefineBench on a fixture zoo (8 samples, 2 steps)', () => {
  let modelsDir: string;
  let report: BenchReport;
  let evaluator: Evaluator;

  beforeAll(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), 'noiserefine-bench-'));
    await writeFixtureZoo(modelsDir);
    const backend = onnxruntimeNode();
    evaluator = await Evaluator.load({ backend });
    report = await runNoiseRefineBench({
      modelsDir,
      families: ['tiny-sit', 'tiny-sd21'],
      evaluator,
      backend,
      samples: 8,
      steps: 2,
      batchSize: 4,
      timingRounds: 1,
    });
  });

  afterAll(async () => {
    await evaluator?.dispose();
    await rm(modelsDir, { recursive: true, force: true });
  });

  it('writes one well-formed row per method for the family present', () => {
    expect(report.rows.map((r) => r.method)).toEqual([...BENCH_METHODS]);
    for (const row of report.rows) {
      checkBenchRow(row);
      expect(Object.keys(row).sort()).toEqual([
        'accuracy',
        'family',
        'fd',
        'isScore',
        'method',
        'msPerImage',
      ]);
      expect(row.family).toBe('tiny-sit');
      expect(row.msPerImage).toBeGreaterThan(0);
    }
  });

  it('gives identical scores to refined and Gaussian noise when the refiner is at its zero initialisation', () => {
    const by = (m: string) => report.rows.find((r) => r.method === m);
    expect(by('refined-unguided')?.fd).toBeCloseTo(by('gaussian-unguided')?.fd as number, 6);
    expect(by('refined-cfg')?.accuracy).toBe(by('gaussian-cfg')?.accuracy);
  });

  it('skips a missing model with its reason', () => {
    expect(report.skipped).toHaveLength(1);
    expect(report.skipped[0]?.family).toBe('tiny-sd21');
    expect(report.skipped[0]?.reason).toMatch(/model_index\.json/);
  });

  it('summarises the family with the low-frequency check and survives a JSON round trip', () => {
    const [summary] = report.families;
    expect(summary?.family).toBe('tiny-sit');
    expect(summary?.lowFrequency?.gaussian.cutoff).toBe(0.1);
    expect(summary?.lowFrequency?.gaussian.binFraction).toBeCloseTo(1 / 64, 10);
    // A zero residual has no energy anywhere.
    expect(summary?.lowFrequency?.residual.fraction).toBe(0);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(formatBenchReport(report)).toContain('tiny-sd21: skipped');
    const markdown = formatBenchMarkdown(report);
    expect(markdown.match(/^\| tiny-sit \| /gm)).toHaveLength(BENCH_METHODS.length + 1);
  });
});
