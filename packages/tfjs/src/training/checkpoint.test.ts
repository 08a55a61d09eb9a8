import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ModelLoadError, ShapeMismatchError } from '@noiserefine/core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { selectEngine } from '../engine/engine-selection';
import { pseudoRandom } from '../test-support/gradient-check';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { AdamW } from './optimizers';
import { trainStep } from './train-step';

let dir: string;

beforeAll(async () => {
  await selectEngine({ engine: 'wasm' });
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfjs-checkpoint-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A small regression problem: y = tanh(x·w1)·w2 fitted to fixed targets. */
function problem(seed: number) {
  const variables = new Map<string, tf.Variable>([
    ['w1', tf.variable(tf.tensor(pseudoRandom(12, seed), [3, 4]), true)],
    ['w2', tf.variable(tf.tensor(pseudoRandom(8, seed + 1), [4, 2]), true)],
  ]);
  const x = tf.tensor(pseudoRandom(15, 99), [5, 3]);
  const y = tf.tensor(pseudoRandom(10, 98), [5, 2]);
  const loss = () => {
    const w1 = variables.get('w1') as tf.Variable;
    const w2 = variables.get('w2') as tf.Variable;
    return tf.mean(tf.square(tf.sub(tf.matMul(tf.tanh(tf.matMul(x, w1)), w2), y)));
  };
  const dispose = () => tf.dispose([...variables.values(), x, y]);
  return { variables, loss, dispose };
}

const snapshot = (vars: Map<string, tf.Variable>) =>
  Object.fromEntries([...vars].map(([k, v]) => [k, Array.from(v.dataSync())]));

describe('checkpoints', () => {
  it('resume training exactly where it stopped (weights and AdamW state)', async () => {
    const run = problem(1);
    const optimizer = new AdamW({ lr: 0.05 });
    for (let i = 0; i < 3; i++) await trainStep({ loss: run.loss, optimizer, variables: run.variables });
    await saveCheckpoint(dir, { variables: run.variables, optimizer, metadata: { note: 'after 3 steps' } });
    for (let i = 0; i < 3; i++) await trainStep({ loss: run.loss, optimizer, variables: run.variables });
    const straight = snapshot(run.variables);

    const resumed = problem(7);
    const fresh = new AdamW({ lr: 0.05 });
    const loaded = await loadCheckpoint(dir, { variables: resumed.variables, optimizer: fresh });
    expect(loaded).toEqual({ step: 3, metadata: { note: 'after 3 steps' }, restored: ['w1', 'w2'] });
    expect(fresh.stepCount).toBe(3);
    for (let i = 0; i < 3; i++)
      await trainStep({ loss: resumed.loss, optimizer: fresh, variables: resumed.variables });
    expect(snapshot(resumed.variables)).toEqual(straight);

    optimizer.dispose();
    fresh.dispose();
    run.dispose();
    resumed.dispose();
  });

  it('leaves one manifest and one data file, and no temporary files, after repeated saves', async () => {
    const run = problem(2);
    for (let i = 0; i < 3; i++) await saveCheckpoint(dir, { variables: run.variables, step: i });
    const files = (await readdir(dir)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toBe('checkpoint.json');
    expect(files[1]).toMatch(/^tensors-[0-9a-f-]+\.bin$/);
    run.dispose();
  });

  it('a save interrupted before the manifest is replaced leaves the previous checkpoint intact', async () => {
    const run = problem(3);
    await saveCheckpoint(dir, { variables: run.variables, step: 1 });
    const before = snapshot(run.variables);
    // What a crash between the two renames leaves behind: a new data file and a stray temp file.
    await writeFile(join(dir, 'tensors-00000000-0000-0000-0000-000000000000.bin'), new Uint8Array(80));
    await writeFile(join(dir, '.checkpoint.json.1234.tmp'), '{ "partial": ');
    const other = problem(4);
    const loaded = await loadCheckpoint(dir, { variables: other.variables });
    expect(loaded.step).toBe(1);
    expect(snapshot(other.variables)).toEqual(before);
    run.dispose();
    other.dispose();
  });

  it('reports mismatches with typed errors', async () => {
    const run = problem(5);
    await saveCheckpoint(dir, { variables: run.variables });
    const wrongShape = new Map([
      ['w1', tf.variable(tf.zeros([4, 3]), true)],
      ['w2', tf.variable(tf.zeros([4, 2]), true)],
    ]);
    await expect(loadCheckpoint(dir, { variables: wrongShape })).rejects.toThrow(ShapeMismatchError);
    const missing = new Map([['w3', tf.variable(tf.zeros([1]), true)]]);
    await expect(loadCheckpoint(dir, { variables: missing })).rejects.toThrow(InvalidArgumentError);
    await expect(loadCheckpoint(dir, { variables: missing })).rejects.toThrow(
      /missing \[w3\], unexpected \[w1, w2\]/,
    );
    await expect(loadCheckpoint(join(dir, 'nowhere'), { variables: run.variables })).rejects.toThrow(
      ModelLoadError,
    );
    const optimizer = new AdamW({ lr: 0.1 });
    await expect(loadCheckpoint(dir, { variables: run.variables, optimizer })).rejects.toThrow(
      /holds no optimizer state/,
    );
    tf.dispose([...wrongShape.values(), ...missing.values()]);
    run.dispose();
  });
});
