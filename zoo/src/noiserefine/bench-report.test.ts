import { describe, expect, it } from 'vitest';
import {
  type BenchMethod,
  type BenchReport,
  type BenchRow,
  checkBenchRow,
  gapClosed,
  mergeBenchReports,
  summarizeFamily,
} from './bench-report';

const row = (
  family: string,
  method: BenchMethod,
  fd: number,
  accuracy: number,
  msPerImage: number,
): BenchRow => ({
  family,
  method,
  fd,
  accuracy,
  isScore: 5,
  msPerImage,
});

function report(rows: BenchRow[], skipped: BenchReport['skipped'] = []): BenchReport {
  return {
    samples: 100,
    steps: 20,
    seed: 0,
    batchSize: 50,
    pag: { pagScale: 3, layers: 'default' },
    backend: 'onnxruntime-node',
    rows,
    families: [...new Set(rows.map((r) => r.family))].map((f) => ({ ...summarizeFamily(rows, f) })),
    skipped,
  };
}

describe('gapClosed', () => {
  it('is 1 at the guided value, 0 at the unguided one, for either direction', () => {
    expect(gapClosed(0.5, 0.1, 0.1, 'lower-is-better')).toBeCloseTo(1, 12);
    expect(gapClosed(0.5, 0.1, 0.26, 'lower-is-better')).toBeCloseTo(0.6, 12);
    expect(gapClosed(0.2, 0.4, 0.2, 'higher-is-better')).toBe(0);
    expect(gapClosed(0.2, 0.4, 0.1, 'higher-is-better')).toBeCloseTo(-0.5, 12);
  });

  it('is null when guidance does not improve the metric', () => {
    expect(gapClosed(0.1, 0.2, 0.05, 'lower-is-better')).toBeNull();
    expect(gapClosed(0.3, 0.3, 0.35, 'higher-is-better')).toBeNull();
  });
});

describe('summarizeFamily', () => {
  it('computes the gaps, the speed-up over CFG and the target verdicts', () => {
    const rows = [
      row('a', 'gaussian-unguided', 0.5, 0.2, 10),
      row('a', 'gaussian-cfg', 0.1, 0.6, 20),
      row('a', 'refined-unguided', 0.2, 0.4, 10.5),
    ];
    const s = summarizeFamily(rows, 'a');
    expect(s.fdGapClosed).toBeCloseTo(0.75, 12);
    expect(s.accuracyGapClosed).toBeCloseTo(0.5, 12);
    expect(s.speedup).toBeCloseTo(20 / 10.5, 12);
    expect(s.targets).toEqual({ fdGapClosed: true, accuracyGapClosed: false, speedup: true });
  });

  it('leaves out what it cannot compute without a refined row', () => {
    const s = summarizeFamily(
      [row('a', 'gaussian-unguided', 0.5, 0.2, 10), row('a', 'gaussian-cfg', 0.1, 0.6, 20)],
      'a',
    );
    expect(s).toMatchObject({ fdGapClosed: null, accuracyGapClosed: null, speedup: null });
    expect(s.targets).toEqual({ fdGapClosed: null, accuracyGapClosed: null, speedup: null });
  });
});

describe('checkBenchRow', () => {
  it('names the bad field', () => {
    expect(() => checkBenchRow({ ...row('a', 'gaussian-cfg', 0.1, 0.5, 1), fd: Number.NaN })).toThrow(/fd/);
    expect(() => checkBenchRow({ ...row('a', 'gaussian-cfg', 0.1, 0.5, 1), method: 'cfg' })).toThrow(
      /one of/,
    );
    expect(() => checkBenchRow({ ...row('a', 'gaussian-cfg', 0.1, 1.5, 1) })).toThrow(/accuracy ≤ 1/);
  });
});

describe('mergeBenchReports', () => {
  it('replaces the families benchmarked now and keeps the others', () => {
    const before = report(
      [row('a', 'gaussian-cfg', 0.3, 0.5, 1), row('b', 'gaussian-cfg', 0.4, 0.5, 1)],
      [{ family: 'c', reason: 'missing' }],
    );
    const now = report([row('b', 'gaussian-cfg', 0.2, 0.6, 1), row('c', 'gaussian-cfg', 0.1, 0.7, 1)]);
    const merged = mergeBenchReports(before, now);
    expect(merged.rows.map((r) => `${r.family}:${r.fd}`)).toEqual(['a:0.3', 'b:0.2', 'c:0.1']);
    expect(merged.families.map((f) => f.family)).toEqual(['a', 'b', 'c']);
    expect(merged.skipped).toEqual([]);
    expect(mergeBenchReports(merged, { ...now, pag: { pagScale: 3, layers: 'other' } }).pag.layers).toBe(
      'default; other',
    );
  });

  it('refuses reports made with other settings', () => {
    const a = report([row('a', 'gaussian-cfg', 0.3, 0.5, 1)]);
    expect(() => mergeBenchReports(a, { ...a, samples: 200 })).toThrow(/same samples/);
  });
});
