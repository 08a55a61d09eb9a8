import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@noiserefine/core';
import { selectEngine } from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiTNetworkConfig } from '../networks/sit';
import { checkpointToOnnx } from './sit-checkpoint';
import { startRun } from './run-training';
import { type LatentTrainingData, SiTTrainer, type SiTTrainingConfig } from './sit-trainer';
import { TrainingClock } from './training-clock';

const NETWORK: SiTNetworkConfig = {
  inputSize: 8,
  inChannels: 4,
  patchSize: 2,
  hiddenSize: 16,
  depth: 1,
  numHeads: 2,
  mlpRatio: 2,
  numClasses: 3,
  frequencyEmbeddingSize: 16,
};
const CONFIG: SiTTrainingConfig = {
  network: NETWORK,
  seed: 5,
  batchSize: 16,
  totalSteps: 16,
  warmupSteps: 4,
  learningRate: 1e-2,
  weightDecay: 0.01,
  labelDropout: 0.1,
  emaDecay: 0.9,
};

/** 48 latents: one smooth pattern per class, so the velocity field has structure to learn. */
function classPatterns(): LatentTrainingData {
  const count = 48;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  const latents = new Float32Array(count * 256);
  for (let i = 0; i < count; i++) {
    const c = labels[i] as number;
    for (let k = 0; k < 256; k++)
      latents[i * 256 + k] = 1.5 * Math.cos(0.05 * k * (c + 1) + c) + 0.1 * Math.sin(i + k);
  }
  return { latents, labels };
}

const data = classPatterns();
const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sit-trainer-'));
  dirs.push(dir);
  return dir;
};

/** Every checkpointed tensor (weights, moving averages, optimizer slots) as plain arrays. */
async function state(trainer: SiTTrainer): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of trainer.checkpointVariables()) out.set(name, (await v.data()) as Float32Array);
  const names = trainer.graph.variableNames();
  for (const [slot, perVariable] of trainer.optimizer.slots()) {
    for (const [variable, value] of perVariable) {
      out.set(`${slot}/${names.get(variable)}`, (await value.data()) as Float32Array);
    }
  }
  return out;
}

beforeAll(async () => {
  await selectEngine();
});
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('SiTTrainer', () => {
  it('lowers the flow-matching loss within a few steps', async () => {
    const trainer = new SiTTrainer(CONFIG, data);
    const evalBatches = [100, 101].map((s) => trainer.batches.batch(s));
    try {
      const before = await trainer.evaluate(evalBatches);
      // The zero-initialised network predicts v = 0: the loss is E|x1 − x0|².
      expect(before).toBeGreaterThan(2);
      while (!trainer.done) await trainer.trainStep();
      const after = await trainer.evaluate(evalBatches);
      // 2.12 → 1.61 on the wasm engine.
      expect(after).toBeLessThan(0.85 * before);
      expect(await trainer.evaluate(evalBatches, 'ema')).toBeLessThan(before);
      expect(tf.memory().numTensors).toBeLessThan(10_000);
      await expect(trainer.trainStep()).rejects.toThrow(InvalidArgumentError);
    } finally {
      trainer.dispose();
    }
  });

  it('resumed from a checkpoint, ends bit-identical to an uninterrupted run', async () => {
    const config = { ...CONFIG, totalSteps: 6 };
    const straight = new SiTTrainer(config, data);
    while (!straight.done) await straight.trainStep();
    const expected = await state(straight);
    straight.dispose();

    const dir = await tempDir();
    const first = new SiTTrainer(config, data);
    for (let i = 0; i < 3; i++) await first.trainStep();
    await first.saveCheckpoint(dir, { note: 'interrupted' });
    // Half a step's update after the save is lost, as when the process is killed.
    await first.trainStep();
    first.dispose();

    const resumed = new SiTTrainer(config, data);
    const { step, metadata } = await resumed.loadCheckpoint(dir);
    expect(step).toBe(3);
    expect(metadata).toMatchObject({ note: 'interrupted' });
    while (!resumed.done) await resumed.trainStep();
    const actual = await state(resumed);
    resumed.dispose();

    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    expect(actual.size).toBeGreaterThan(3 * 20);
    for (const [name, values] of expected) expect(actual.get(name), name).toEqual(values);
  });

  it('refuses a checkpoint of another config', async () => {
    const dir = await tempDir();
    const trainer = new SiTTrainer({ ...CONFIG, totalSteps: 2 }, data);
    await trainer.trainStep();
    await trainer.saveCheckpoint(dir);
    trainer.dispose();
    const other = new SiTTrainer({ ...CONFIG, totalSteps: 3 }, data);
    try {
      await expect(other.loadCheckpoint(dir)).rejects.toThrow(/another training config/);
    } finally {
      other.dispose();
    }
  });

  it("starts a new run from an earlier run's weights, and a resumed run remembers where they came from", async () => {
    const earlierDir = await tempDir();
    const earlier = new SiTTrainer({ ...CONFIG, totalSteps: 3 }, data);
    while (!earlier.done) await earlier.trainStep();
    await earlier.saveCheckpoint(earlierDir, { command: 'first run' });
    const earlierWeights = await earlier.weights('current');
    const earlierAverage = await earlier.weights('ema');
    earlier.dispose();

    const dir = await tempDir();
    const logs: string[] = [];
    const longer = new SiTTrainer({ ...CONFIG, totalSteps: 4 }, data);
    const clock = new TrainingClock();
    const run = await startRun({
      trainer: longer,
      clock,
      checkpointDir: dir,
      command: 'second run',
      initFrom: earlierDir,
      log: (m) => logs.push(m),
    });
    try {
      expect(longer.step).toBe(0);
      expect(run.initialisedFrom).toEqual({ checkpoint: earlierDir, steps: 3, command: 'first run' });
      expect(await longer.weights('current')).toEqual(earlierWeights);
      expect(await longer.weights('ema')).toEqual(earlierAverage);
      await longer.trainStep();
      await run.save();
    } finally {
      longer.dispose();
    }
    await expect(
      (async () => {
        const started = new SiTTrainer(CONFIG, data);
        await started.trainStep();
        try {
          await started.initFrom(earlierDir);
        } finally {
          started.dispose();
        }
      })(),
    ).rejects.toThrow(/needs a new run/);

    const resumed = new SiTTrainer({ ...CONFIG, totalSteps: 4 }, data);
    try {
      const again = await startRun({
        trainer: resumed,
        clock: new TrainingClock(),
        checkpointDir: dir,
        command: 'third',
        initFrom: 'ignored',
        log: (m) => logs.push(m),
      });
      expect(resumed.step).toBe(1);
      expect(again.command).toBe('second run');
      expect(again.initialisedFrom).toEqual(run.initialisedFrom);
    } finally {
      resumed.dispose();
    }
    expect(logs[0]).toMatch(/from the weights of/);
    expect(logs[1]).toMatch(/resumed from/);
  });

  it('exports ONNX that onnxruntime runs to the same velocity as the tfjs graph', async () => {
    const dir = await tempDir();
    const trainer = new SiTTrainer({ ...CONFIG, totalSteps: 5 }, data);
    try {
      while (!trainer.done) await trainer.trainStep();
      await trainer.saveCheckpoint(dir);
      const batch = trainer.batches.batch(50);
      const b = batch.t.length;
      const session = await ort.InferenceSession.create(await trainer.exportOnnx('current'));
      const fromOrt = await session.run({
        x: new ort.Tensor('float32', batch.xt, [b, 4, 8, 8]),
        t: new ort.Tensor('float32', batch.t, [b]),
        y: new ort.Tensor('int64', BigInt64Array.from(batch.y, BigInt), [b]),
      });
      await session.release();
      const out = tf.tidy(() => {
        const feeds = {
          x: tf.tensor(batch.xt, [b, 4, 8, 8]),
          t: tf.tensor(batch.t, [b]),
          y: tf.tensor(batch.y, [b], 'int32'),
        };
        return trainer.graph.execute(feeds).output as tf.Tensor;
      });
      const fromTfjs = (await out.data()) as Float32Array;
      out.dispose();
      const ortValues = fromOrt.output!.data as Float32Array;
      expect(Math.max(...fromTfjs.map((v) => Math.abs(v)))).toBeGreaterThan(0.01);
      expect(Math.max(...ortValues.map((v, i) => Math.abs(v - (fromTfjs[i] as number))))).toBeLessThan(1e-4);

      // The checkpoint's moving average is what the default export and checkpointToOnnx carry.
      const fromCheckpoint = await checkpointToOnnx(dir);
      expect(fromCheckpoint).toMatchObject({ step: 5, weights: 'ema' });
      expect(fromCheckpoint.onnx).toEqual(await trainer.exportOnnx('ema'));
      expect(fromCheckpoint.onnx).not.toEqual(await trainer.exportOnnx('current'));
    } finally {
      trainer.dispose();
    }
  });
});
