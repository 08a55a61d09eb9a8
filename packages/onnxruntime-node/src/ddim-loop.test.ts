import { DDIMScheduler, Generator, type Tensor } from '@noiserefine/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { onnxruntimeNode } from './index';
import { tinyDenoiserModel } from './tiny-denoiser';

const SHAPE = [1, 4, 8, 8];
const STEPS = 10;
const schedulerConfig = {
  betaSchedule: 'scaled_linear',
  betaStart: 0.00085,
  betaEnd: 0.012,
  clipSample: false,
  setAlphaToOne: false,
  stepsOffset: 1,
} as const;

const timestepFeed = (t: number) => ({
  dtype: 'int64' as const,
  data: BigInt64Array.from([BigInt(t)]),
  shape: [1],
});

describe('a DDIM loop through the adapter', () => {
  it('matches the same loop written on the bare session and Float32Arrays', async () => {
    const bytes = tinyDenoiserModel(7);
    const noise = new Generator(42).randnValues(SHAPE.reduce((a, b) => a * b, 1));

    const backend = onnxruntimeNode();
    const model = await backend.loadModel(bytes);
    const scheduler = new DDIMScheduler(schedulerConfig);
    scheduler.setTimesteps(STEPS);
    let latent: Tensor = backend.tensors.fromData(noise, SHAPE);
    for (const t of scheduler.timesteps) {
      const { out_sample: eps } = await model.run({ sample: latent, timestep: timestepFeed(t) });
      const { prevSample, predOriginalSample } = scheduler.step(eps!, t, latent);
      for (const x of [latent, eps!, predOriginalSample]) x.dispose();
      latent = prevSample;
    }
    const ours = await latent.data();
    await backend.dispose();

    // DDIM (eta = 0) by its formula, in float32 like torch.
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
    const bare = new DDIMScheduler(schedulerConfig);
    bare.setTimesteps(STEPS);
    const f = Math.fround;
    let x = Float32Array.from(noise);
    for (const t of bare.timesteps) {
      const result = await session.run({
        sample: new ort.Tensor('float32', x, SHAPE),
        timestep: new ort.Tensor('int64', BigInt64Array.from([BigInt(t)]), [1]),
      });
      const eps = result.out_sample!.data as Float32Array;
      const a = bare.alphaAt(t);
      const aPrev = bare.alphaAt(bare.previousTimestep(t));
      const next = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const x0 = f((x[i]! - f(Math.sqrt(1 - a)) * eps[i]!) / f(Math.sqrt(a)));
        next[i] = f(f(Math.sqrt(aPrev)) * x0 + f(Math.sqrt(1 - aPrev)) * eps[i]!);
      }
      x = next;
    }
    await session.release();

    let maxDiff = 0;
    for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i]! - ours[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(Math.max(...Array.from(ours, Math.abs))).toBeGreaterThan(0.1);
  });
});
