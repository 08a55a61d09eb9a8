import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InvalidArgumentError } from '@noiserefine/core';

/** What one sample is conditioned on: a class label (SiT) or a prompt (Stable Diffusion). */
export type Condition = { readonly label: number } | { readonly prompt: string };
export type ConditionKind = 'label' | 'prompt';

export function conditionKind(condition: Condition): ConditionKind {
  return 'label' in condition ? 'label' : 'prompt';
}

/** Checks every condition is of one kind and returns it. */
export function conditionsKind(conditions: readonly Condition[], what = 'conditions'): ConditionKind {
  const first = conditions[0];
  if (first === undefined)
    throw new InvalidArgumentError(`${what}: expected at least one condition, got none`);
  const kind = conditionKind(first);
  const other = conditions.find((c) => conditionKind(c) !== kind);
  if (other !== undefined) {
    throw new InvalidArgumentError(
      `${what}: expected only ${kind}s, got ${JSON.stringify(other)} among them`,
    );
  }
  return kind;
}

/** Class labels from "0-9", "1,3,5" or "0-4,7". */
export function parseClassList(spec: string): Condition[] {
  const labels: number[] = [];
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (to < from) throw new InvalidArgumentError(`class range "${part}": expected from ≤ to`);
      for (let l = from; l <= to; l++) labels.push(l);
    } else if (/^\d+$/.test(part)) {
      labels.push(Number(part));
    } else {
      throw new InvalidArgumentError(
        `class list: expected non-negative integers or ranges like "0-9", got "${part}" in "${spec}"`,
      );
    }
  }
  if (labels.length === 0)
    throw new InvalidArgumentError(`class list: expected at least one class, got "${spec}"`);
  return labels.map((label) => ({ label }));
}

/**
 * Conditions from a file: `.json` holds an array of class labels or prompts; any other
 * file is one prompt per line (blank lines and lines starting with # are skipped).
 */
export async function readConditionsFile(path: string): Promise<Condition[]> {
  const text = await readFile(path, 'utf8');
  if (extname(path).toLowerCase() === '.json') {
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed) || parsed.length === 0) {
      throw new InvalidArgumentError(`${path}: expected a non-empty JSON array of labels or prompts`);
    }
    const conditions = parsed.map((v, i): Condition => {
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return { label: v };
      if (typeof v === 'string' && v.trim() !== '') return { prompt: v };
      throw new InvalidArgumentError(
        `${path}: entry ${i}: expected a non-negative integer label or a prompt, got ${JSON.stringify(v)}`,
      );
    });
    conditionsKind(conditions, path);
    return conditions;
  }
  const prompts = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (prompts.length === 0)
    throw new InvalidArgumentError(`${path}: expected at least one prompt line, got none`);
  return prompts.map((prompt) => ({ prompt }));
}
