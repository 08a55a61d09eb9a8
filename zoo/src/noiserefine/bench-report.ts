import { InvalidArgumentError } from '@noiserefine/core';
import type { LowFrequencyEnergy } from './low-frequency';

/** The sampling methods the bench compares, all from the same seeded Gaussian noise. */
export const BENCH_METHODS = [
  'gaussian-unguided',
  'gaussian-cfg',
  'gaussian-cfg-pag',
  'refined-unguided',
  'refined-cfg',
] as const;
export type BenchMethod = (typeof BENCH_METHODS)[number];

/** One family × method: evaluator scores and sampling time. */
export interface BenchRow {
  family: string;
  method: BenchMethod;
  /** Fréchet distance of the evaluator's features to real images (lower is better). */
  fd: number;
  /** Share of samples the evaluator classifies as their conditioning class. */
  accuracy: number;
  /** Inception-Score analogue of the evaluator. */
  isScore: number;
  /**
   * Wall time of generate() (refiner, sampling loop, VAE decode) per image, in ms: the median over
   * timing rounds that interleave one batch of every method.
   */
  msPerImage: number;
}

/** Targets the bench checks: ≥ 60% of the FD gap, at least as much of the accuracy gap, ≥ 1.8× faster. */
export const BENCH_TARGETS = { fdGapClosed: 0.6, accuracyGapClosed: 0.6, speedup: 1.8 } as const;

export interface FamilySummary {
  family: string;
  /** (FD_unguided − FD_refined) / (FD_unguided − FD_cfg); null when CFG does not improve FD. */
  fdGapClosed: number | null;
  /** (acc_refined − acc_unguided) / (acc_cfg − acc_unguided); null when CFG does not improve accuracy. */
  accuracyGapClosed: number | null;
  /** ms/image of gaussian-cfg over ms/image of refined-unguided. */
  speedup: number | null;
  /** Each target: met, missed, or not measurable (null). */
  targets: { fdGapClosed: boolean | null; accuracyGapClosed: boolean | null; speedup: boolean | null };
  /** Fig. 9: energy of the refiner's residual vs of the Gaussian noise in the lowest frequencies. */
  lowFrequency?: {
    residual: LowFrequencyEnergy;
    gaussian: LowFrequencyEnergy;
    profile: LowFrequencyProfile[];
  };
  /** Why methods or the family were left out. */
  notes: string[];
}

export interface LowFrequencyProfile {
  cutoff: number;
  residual: number;
  gaussian: number;
  binFraction: number;
}

export interface BenchReport {
  samples: number;
  steps: number;
  seed: number;
  batchSize: number;
  pag: { pagScale: number; layers: string };
  backend: string;
  rows: BenchRow[];
  families: FamilySummary[];
  /** Families not benchmarked, with the reason. */
  skipped: { family: string; reason: string }[];
}

/**
 * The share of the guidance gap the refined method closes: 1 = as good as guided, 0 = no better
 * than unguided. Null when guidance does not improve the metric (there is no gap to close).
 */
export function gapClosed(
  unguided: number,
  guided: number,
  refined: number,
  direction: 'lower-is-better' | 'higher-is-better',
): number | null {
  const sign = direction === 'lower-is-better' ? -1 : 1;
  const gap = sign * (guided - unguided);
  if (!(gap > 0)) return null;
  return (sign * (refined - unguided)) / gap;
}

function rowOf(rows: readonly BenchRow[], family: string, method: BenchMethod): BenchRow | undefined {
  return rows.find((r) => r.family === family && r.method === method);
}

/** Gap fractions, speed ratio and target checks of one family's rows. */
export function summarizeFamily(
  rows: readonly BenchRow[],
  family: string,
  notes: string[] = [],
): Omit<FamilySummary, 'lowFrequency'> {
  const unguided = rowOf(rows, family, 'gaussian-unguided');
  const cfg = rowOf(rows, family, 'gaussian-cfg');
  const refined = rowOf(rows, family, 'refined-unguided');
  const fdGap =
    unguided && cfg && refined ? gapClosed(unguided.fd, cfg.fd, refined.fd, 'lower-is-better') : null;
  const accGap =
    unguided && cfg && refined
      ? gapClosed(unguided.accuracy, cfg.accuracy, refined.accuracy, 'higher-is-better')
      : null;
  const speedup = cfg && refined && refined.msPerImage > 0 ? cfg.msPerImage / refined.msPerImage : null;
  const check = (value: number | null, target: number) => (value === null ? null : value >= target);
  return {
    family,
    fdGapClosed: fdGap,
    accuracyGapClosed: accGap,
    speedup,
    targets: {
      fdGapClosed: check(fdGap, BENCH_TARGETS.fdGapClosed),
      accuracyGapClosed: check(accGap, BENCH_TARGETS.accuracyGapClosed),
      speedup: check(speedup, BENCH_TARGETS.speedup),
    },
    notes,
  };
}

/** Throws a typed error naming the field when a row is not a finite, well-formed bench row. */
export function checkBenchRow(row: unknown): asserts row is BenchRow {
  const r = row as Record<string, unknown>;
  if (typeof r !== 'object' || r === null) {
    throw new InvalidArgumentError(`bench row: expected an object, got ${JSON.stringify(row)}`);
  }
  if (typeof r.family !== 'string' || r.family === '') {
    throw new InvalidArgumentError(`bench row: expected a family name, got ${JSON.stringify(r.family)}`);
  }
  if (!BENCH_METHODS.includes(r.method as BenchMethod)) {
    throw new InvalidArgumentError(
      `bench row: expected method to be one of ${BENCH_METHODS.join(', ')}, got ${JSON.stringify(r.method)}`,
    );
  }
  for (const key of ['fd', 'accuracy', 'isScore', 'msPerImage'] as const) {
    const v = r[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new InvalidArgumentError(
        `bench row ${r.family}/${r.method}: expected ${key} ≥ 0, got ${JSON.stringify(v)}`,
      );
    }
  }
  if ((r.accuracy as number) > 1) {
    throw new InvalidArgumentError(
      `bench row ${r.family}/${r.method}: expected accuracy ≤ 1, got ${r.accuracy}`,
    );
  }
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(0)}%`);
const verdict = (met: boolean | null) => (met === null ? 'not measurable' : met ? 'met' : 'MISSED');

/** The bench as plain-text tables: one row per family × method, then each family's summary. */
export function formatBenchReport(report: BenchReport): string {
  const header = ['family', 'method', 'FD', 'accuracy', 'IS', 'ms/image'];
  const cells = report.rows.map((r) => [
    r.family,
    r.method,
    r.fd.toFixed(4),
    r.accuracy.toFixed(3),
    r.isScore.toFixed(2),
    r.msPerImage.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: string[]) =>
    c.map((v, i) => (i < 2 ? v.padEnd(widths[i] as number) : v.padStart(widths[i] as number))).join('  ');
  const out = [
    `${report.samples} samples, ${report.steps} steps, seed ${report.seed}, ${report.backend}; PAG s = ${report.pag.pagScale} (${report.pag.layers})`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    '',
  ];
  for (const f of report.families) {
    out.push(
      `${f.family}: FD gap closed ${pct(f.fdGapClosed)} (target ≥ 60%: ${verdict(f.targets.fdGapClosed)}), ` +
        `accuracy gap closed ${pct(f.accuracyGapClosed)} (target ≥ 60%: ${verdict(f.targets.accuracyGapClosed)}), ` +
        `refined-unguided ${f.speedup === null ? 'n/a' : `${f.speedup.toFixed(2)}×`} faster than gaussian-cfg (target ≥ 1.8×: ${verdict(f.targets.speedup)})`,
    );
    if (f.lowFrequency) {
      const { residual, gaussian } = f.lowFrequency;
      out.push(
        `  low-frequency energy (radius ≤ ${residual.cutoff}): refiner residual ${pct(residual.fraction)} vs Gaussian noise ${pct(gaussian.fraction)} (bins inside: ${pct(residual.binFraction)})`,
      );
      out.push(
        `  profile: ${f.lowFrequency.profile.map((p) => `≤${p.cutoff}: ${pct(p.residual)} vs ${pct(p.gaussian)}`).join(', ')}`,
      );
    }
    for (const n of f.notes) out.push(`  note: ${n}`);
  }
  for (const s of report.skipped) out.push(`${s.family}: skipped (${s.reason})`);
  return out.join('\n');
}

/** The bench as a markdown page: the rows, then each family's gaps, speed and low-frequency share. */
export function formatBenchMarkdown(report: BenchReport): string {
  const lines = [
    '# NoiseRefine on the tiny zoo',
    '',
    `${report.samples} class-balanced samples per method, ${report.steps} steps, seeds ${report.seed}…, batch ${report.batchSize}, ` +
      `${report.backend}; CFG at each model's default scale; PAG s = ${report.pag.pagScale}, layers ${report.pag.layers}. ` +
      'Generated by `npm run bench:noiserefine`; ms/image is the median generate() wall time per image over rounds that interleave one batch of every method.',
    '',
    '| family | method | FD ↓ | accuracy ↑ | IS ↑ | ms/image |',
    '| --- | --- | --- | --- | --- | --- |',
    ...report.rows.map(
      (r) =>
        `| ${r.family} | ${r.method} | ${r.fd.toFixed(4)} | ${r.accuracy.toFixed(3)} | ${r.isScore.toFixed(2)} | ${r.msPerImage.toFixed(2)} |`,
    ),
    '',
    '| family | FD gap closed (≥ 60%) | accuracy gap closed (≥ 60%) | speed-up over CFG (≥ 1.8×) | residual energy at radius ≤ 0.1 | Gaussian noise there |',
    '| --- | --- | --- | --- | --- | --- |',
    ...report.families.map((f) => {
      const speed = f.speedup === null ? 'n/a' : `${f.speedup.toFixed(2)}×`;
      const low = f.lowFrequency;
      return `| ${f.family} | ${pct(f.fdGapClosed)} (${verdict(f.targets.fdGapClosed)}) | ${pct(f.accuracyGapClosed)} (${verdict(f.targets.accuracyGapClosed)}) | ${speed} (${verdict(f.targets.speedup)}) | ${low ? pct(low.residual.fraction) : 'n/a'} | ${low ? pct(low.gaussian.fraction) : 'n/a'} |`;
    }),
    '',
  ];
  for (const f of report.families) {
    if (f.lowFrequency) {
      lines.push(
        `${f.family} low-frequency profile (residual vs Gaussian, share of bins): ` +
          f.lowFrequency.profile
            .map((p) => `≤ ${p.cutoff}: ${pct(p.residual)} vs ${pct(p.gaussian)} (${pct(p.binFraction)})`)
            .join('; '),
        '',
      );
    }
    for (const n of f.notes) lines.push(`${f.family}: ${n}`, '');
  }
  for (const s of report.skipped) lines.push(`${s.family}: skipped (${s.reason})`, '');
  return lines.join('\n');
}

/**
 * `current` on top of `previous`: the families benchmarked now replace their earlier rows and
 * summaries, the others are kept, so one family can be rerun alone. Both must share samples,
 * steps, seed, batch size and PAG settings, or the rows would not be comparable.
 */
export function mergeBenchReports(previous: BenchReport, current: BenchReport): BenchReport {
  for (const key of ['samples', 'steps', 'seed', 'batchSize', 'backend'] as const) {
    if (previous[key] !== current[key]) {
      throw new InvalidArgumentError(
        `merging bench reports: expected the same ${key}, got ${JSON.stringify(previous[key])} before and ${JSON.stringify(current[key])} now`,
      );
    }
  }
  if (previous.pag.pagScale !== current.pag.pagScale) {
    throw new InvalidArgumentError(
      `merging bench reports: expected the same PAG scale, got ${previous.pag.pagScale} before and ${current.pag.pagScale} now`,
    );
  }
  const now = new Set([...current.rows.map((r) => r.family), ...current.skipped.map((s) => s.family)]);
  const layers = [...new Set([...previous.pag.layers.split('; '), ...current.pag.layers.split('; ')])].join(
    '; ',
  );
  return {
    ...current,
    pag: { pagScale: current.pag.pagScale, layers },
    rows: [...previous.rows.filter((r) => !now.has(r.family)), ...current.rows],
    families: [...previous.families.filter((f) => !now.has(f.family)), ...current.families],
    skipped: [...previous.skipped.filter((s) => !now.has(s.family)), ...current.skipped],
  };
}
