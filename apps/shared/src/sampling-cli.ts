import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Backend, InvalidArgumentError, InvalidConfigError, NoiseRefiner } from '@noiserefine/core';

/** Command-line options every sampling example takes (node:util parseArgs format). */
export function samplingOptions(defaults: { model: string; out: string }) {
  return {
    model: { type: 'string', default: defaults.model },
    backend: { type: 'string', default: 'onnxruntime-node' },
    seed: { type: 'string', default: '0' },
    steps: { type: 'string', default: '20' },
    'guidance-scale': { type: 'string' },
    refiner: { type: 'string' },
    out: { type: 'string', default: defaults.out },
  } as const;
}

/**
 * A path given on the command line, resolved against the directory the user ran the command
 * in (npm runs workspace scripts inside the workspace, and records the original one in INIT_CWD).
 */
export function userPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}

/** Resolves the path options (model, refiner, out) against the user's directory, in place. */
export function resolvePathOptions(values: {
  model: string;
  out: string;
  refiner?: string | undefined;
}): void {
  values.model = userPath(values.model);
  values.out = userPath(values.out);
  if (values.refiner !== undefined) values.refiner = userPath(values.refiner);
}

/** A numeric command-line value; fails naming the option when it is not a number that passes `check`. */
export function numberOption(
  name: string,
  raw: string | undefined,
  check: (v: number) => boolean = Number.isFinite,
  expected = 'a number',
): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || !check(value)) {
    throw new InvalidArgumentError(`--${name}: expected ${expected}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export interface SamplingValues {
  seed: number;
  numInferenceSteps: number;
  /** Given on the command line, else undefined (the app picks the model's default). */
  guidanceScale: number | undefined;
}

/** The numeric sampling options, checked. */
export function samplingValues(values: {
  seed: string;
  steps: string;
  'guidance-scale'?: string | undefined;
}): SamplingValues {
  const raw = values['guidance-scale'];
  return {
    seed: numberOption('seed', values.seed, Number.isInteger, 'an integer'),
    numInferenceSteps: numberOption(
      'steps',
      values.steps,
      (v) => Number.isInteger(v) && v > 0,
      'a positive integer',
    ),
    guidanceScale:
      raw === undefined ? undefined : numberOption('guidance-scale', raw, (v) => v >= 0, 'a number ≥ 0'),
  };
}

/** Prompts from repeated `--prompts` values, each a ';'-separated list (captions may hold commas). */
export function promptsOption(raw: readonly string[] | undefined, defaults: readonly string[]): string[] {
  if (raw === undefined || raw.length === 0) return [...defaults];
  const prompts = raw.flatMap((value) => value.split(';')).map((p) => p.trim());
  if (prompts.some((p) => p === '')) {
    throw new InvalidArgumentError(
      `--prompts: expected non-empty prompts separated by ';', got ${JSON.stringify(raw)}`,
    );
  }
  return prompts;
}

/**
 * The refiner to compare with: the folder given, else `<model>/refiner` when it has one.
 * A folder given explicitly must load; the default one is optional.
 */
export async function loadRefiner(
  backend: Backend,
  modelDir: string,
  refinerDir?: string,
): Promise<NoiseRefiner | undefined> {
  if (refinerDir !== undefined) return NoiseRefiner.fromPretrained(refinerDir, { backend });
  const fallback = join(modelDir, 'refiner');
  if (!existsSync(join(fallback, 'config.json'))) return undefined;
  return NoiseRefiner.fromPretrained(fallback, { backend });
}

/**
 * The guidance scale a folder is meant to be sampled with: `zoo.json`'s `guidance_scale`
 * (the tiny zoo models record theirs there), else the family's default.
 */
export async function folderGuidanceScale(modelDir: string, familyDefault: number): Promise<number> {
  const file = join(modelDir, 'zoo.json');
  if (!existsSync(file)) return familyDefault;
  const value = (JSON.parse(await readFile(file, 'utf8')) as { guidance_scale?: unknown }).guidance_scale;
  if (value === undefined) return familyDefault;
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new InvalidConfigError('guidance_scale', 'a number ≥ 0', value, { source: file });
  }
  return value;
}
