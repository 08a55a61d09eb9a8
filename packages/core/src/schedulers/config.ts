import { InvalidConfigError } from '../errors';

/** How one config key is validated: a type plus an optional extra check. */
export type KeySpec =
  | { type: 'number'; integer?: boolean; min?: number; max?: number; nullable?: boolean }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[]; nullable?: boolean }
  | { type: 'numberArray'; nullable?: boolean }
  | { type: 'string'; nullable?: boolean };

/** Keys diffusers writes for bookkeeping; they carry no scheduler semantics. */
const BOOKKEEPING = new Set(['_class_name', '_diffusers_version', '_name_or_path']);

export type ConfigWarning = (message: string) => void;

export const snakeToCamel = (key: string): string =>
  key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const camelToSnake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export interface ParseConfigOptions {
  /** Name used in messages, e.g. "DDIMScheduler". */
  source: string;
  /** Receives one message per unknown key; default console.warn. */
  onWarning?: ConfigWarning;
}

/**
 * Reads a diffusers `scheduler_config.json` object (snake_case keys, or camelCase
 * ones) into a typed camelCase config over `defaults`. Unknown keys warn; a value
 * of the wrong type or range throws InvalidConfigError naming the snake_case key.
 */
export function parseConfig<T extends object>(
  json: Record<string, unknown>,
  defaults: T,
  specs: { [K in keyof T]: KeySpec },
  options: ParseConfigOptions,
): T {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidConfigError('(root)', 'a JSON object', json, { source: options.source });
  }
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [rawKey, value] of Object.entries(json)) {
    if (BOOKKEEPING.has(rawKey)) continue;
    const key = snakeToCamel(rawKey);
    if (!(key in specs)) {
      warn(`${options.source}: ignoring unknown config key "${rawKey}"`);
      continue;
    }
    const spec = specs[key as keyof T];
    out[key] = validate(camelToSnake(key), value, spec, options.source);
  }
  return out as T;
}

function validate(key: string, value: unknown, spec: KeySpec, source: string): unknown {
  const fail = (expected: string): never => {
    throw new InvalidConfigError(key, expected, value, { source });
  };
  switch (spec.type) {
    case 'number': {
      if (value === null && spec.nullable) return null;
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail('a finite number');
      if (spec.integer && !Number.isInteger(value)) return fail('an integer');
      if (spec.min !== undefined && value < spec.min) return fail(`a number ≥ ${spec.min}`);
      if (spec.max !== undefined && value > spec.max) return fail(`a number ≤ ${spec.max}`);
      return value;
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : fail('true or false');
    case 'enum':
      if (value === null && spec.nullable) return null;
      return typeof value === 'string' && spec.values.includes(value)
        ? value
        : fail(`one of ${spec.values.map((v) => `"${v}"`).join(', ')}`);
    case 'numberArray':
      if (value === null && spec.nullable) return null;
      return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v))
        ? value
        : fail('an array of finite numbers');
    case 'string':
      if (value === null && spec.nullable) return null;
      return typeof value === 'string' ? value : fail('a string');
  }
}

/** Converts a camelCase config back to diffusers' snake_case JSON. */
export function toSnakeConfig(className: string, config: object): Record<string, unknown> {
  const out: Record<string, unknown> = { _class_name: className };
  for (const [k, v] of Object.entries(config)) out[camelToSnake(k)] = v;
  return out;
}
