import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectEngine } from '@noiserefine/tfjs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptionConditioning } from './sd-ddpm-batches';
import { TEXT_LENGTH } from './sd-families';
import { SDTrainer, type SDTrainingConfig } from './sd-trainer';

const COUNT = 32;
const LATENT = 4 * 8 * 8;

/** Two "captions" with their own latent pattern each, so the conditioning carries information. */
function data(dim: number, pooledDim?: number) {
  const rowOf = Int32Array.from({ length: COUNT }, (_, i) => i % 2);
  const latents = new Float32Array(COUNT * LATENT);
  for (let i = 0; i < COUNT; i++) {
    const c = rowOf[i] as number;
    for (let k = 0; k < LATENT; k++)
      latents[i * LATENT + k] = 1.2 * Math.cos(0.1 * k * (c + 1) + c) + 0.05 * Math.sin(i * k);
  }
  const hidden = Float32Array.from({ length: 3 * TEXT_LENGTH * dim }, (_, i) => {
    const row = Math.floor(i / (TEXT_LENGTH * dim));
    return row === 2 ? 0 : Math.sin(i * 0.37 + row);
  });
  const conditioning: CaptionConditioning = { hidden, seq: TEXT_LENGTH, dim, rowOf, emptyRow: 2 };
  if (pooledDim) {
    conditioning.pooled = Float32Array.from({ length: 3 * pooledDim }, (_, i) =>
      i >= 2 * pooledDim ? 0 : Math.cos(i),
    );
    conditioning.pooledDim = pooledDim;
  }
  return { latents, conditioning, imageSize: 16 };
}

const config = (family: 'sd21' | 'sdxl', overrides: Partial<SDTrainingConfig> = {}): SDTrainingConfig => ({
  family,
  seed: 1,
  batchSize: 8,
  totalSteps: 12,
  warmupSteps: 2,
  learningRate: 3e-3,
  weightDecay: 0.01,
  emaDecay: 0.9,
  captionDropout: 0.1,
  maxGradNorm: 1,
  ...overrides,
});

const dirs: string[] = [];
beforeAll(async () => {
  await selectEngine({ engine: 'wasm' });
});
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('SDTrainer', () => {
  it('lowers the v-prediction loss of the SD 2.1 UNet in a few steps', async () => {
    const trainer = new SDTrainer(config('sd21'), data(64));
    const fixed = [trainer.batches.batch(100), trainer.batches.batch(101)];
    const before = await trainer.evaluate(fixed, 'current');
    while (!trainer.done) await trainer.trainStep();
    const after = await trainer.evaluate(fixed, 'current');
    expect(after).toBeLessThan(0.9 * before);
    trainer.dispose();
  });

  it('resumes an SDXL run from a checkpoint exactly, and exports the scalar-timestep UNet', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sd-trainer-'));
    dirs.push(dir);
    const run = config('sdxl', { totalSteps: 4 });
    const d = data(80, 48);
    const straight = new SDTrainer(run, d);
    const losses: number[] = [];
    for (let s = 0; s < 4; s++) {
      losses.push((await straight.trainStep()).loss);
      if (s === 1) await straight.saveCheckpoint(dir);
    }
    const resumed = new SDTrainer(run, d);
    expect((await resumed.loadCheckpoint(dir)).step).toBe(2);
    const resumedLosses = [(await resumed.trainStep()).loss, (await resumed.trainStep()).loss];
    expect(resumedLosses).toEqual(losses.slice(2));
    const a = await straight.weights('ema');
    const b = await resumed.weights('ema');
    for (const [name, values] of a) expect(b.get(name), name).toEqual(values);

    const exported = await ort.InferenceSession.create(await resumed.exportUNet('ema'));
    const timestep = exported.inputMetadata.find((m) => m.name === 'timestep');
    expect(timestep).toMatchObject({ type: 'float32', shape: [] });
    await expect(new SDTrainer(config('sdxl', { totalSteps: 5 }), d).loadCheckpoint(dir)).rejects.toThrow(
      /another training config/,
    );
    straight.dispose();
    resumed.dispose();
  });
});
