import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../backend/float16';
import { InvalidArgumentError } from '../errors';
import { classifierFreeGuidance } from '../guidance/classifier-free';
import { splitPasses } from '../guidance/passes';
import { Generator } from '../random/generator';
import { DDIMScheduler } from '../schedulers/ddim';
import { SiTFlowScheduler } from '../schedulers/sit-flow';
import { disposeAll } from '../tensor/ops';
import { ReferenceBackend } from '../tensor/reference-backend';
import { EXACT, expectClose } from './compare';
import {
  LOOP_FIXTURES,
  MODEL_FIXTURES,
  fixtureFeeds,
  fixturePath,
  fixtureValues,
  loadFixture,
  readFixtureModel,
  toTensor,
} from './fixtures';

const tensors = new ReferenceBackend();

describe('fixture files', () => {
  it('resolve from the package root', () => {
    expect(fixturePath('tiny-unet')).toMatch(/[/\\]fixtures[/\\]tiny-unet\.onnx$/);
    expect(fixturePath('tiny-unet.json')).toMatch(/[/\\]fixtures[/\\]tiny-unet\.json$/);
    expect(() => fixturePath('../package.json')).toThrow(InvalidArgumentError);
  });

  it('exist for every listed fixture and stay small', () => {
    for (const name of [...MODEL_FIXTURES, ...LOOP_FIXTURES]) {
      const size = statSync(fixturePath(`${name}.json`)).size;
      expect(size, `${name}.json`).toBeLessThanOrEqual(200 * 1024);
    }
    for (const name of MODEL_FIXTURES) {
      const size = statSync(fixturePath(name)).size;
      expect(size, `${name}.onnx`).toBeGreaterThan(0);
      expect(size, `${name}.onnx`).toBeLessThanOrEqual(200 * 1024);
    }
  });

  it('rejects unknown fixture names', async () => {
    await expect(loadFixture('tiny-vae' as 'tiny-unet')).rejects.toThrow(/unknown fixture "tiny-vae"/);
  });
});

describe('model fixtures', () => {
  it.each(MODEL_FIXTURES)('%s: inputs and outputs match the graph signature', async (name) => {
    const fixture = await loadFixture(name);
    expect(fixture.kind).toBe('model');
    expect(Object.keys(fixture.inputs)).toEqual(fixture.inputInfo.map((v) => v.name));
    expect(Object.keys(fixture.outputs)).toEqual(fixture.outputInfo.map((v) => v.name));
    for (const info of [...fixture.inputInfo, ...fixture.outputInfo]) {
      const t = fixture.inputs[info.name] ?? fixture.outputs[info.name];
      expect(t?.dtype, `${name} "${info.name}" dtype`).toBe(info.dtype);
      expect(t?.shape.length, `${name} "${info.name}" rank`).toBe(info.shape.length);
      info.shape.forEach((dim, d) => {
        if (typeof dim === 'number') expect(t?.shape[d], `${name} "${info.name}" dim ${d}`).toBe(dim);
      });
    }
    expect(fixture.tolerance.atol).toBeGreaterThan(0);
    const bytes = await readFixtureModel(fixture.model);
    expect(bytes.length).toBeGreaterThan(0);
  });

  it('feeds floats as core tensors and integers as int64 host tensors', async () => {
    const fixture = await loadFixture('tiny-unet');
    const feeds = fixtureFeeds(fixture, tensors);
    const sample = feeds.sample as { shape: readonly number[]; backend: unknown };
    expect(sample.shape).toEqual([2, 4, 8, 8]);
    expect(sample.backend).toBe(tensors);
    expect(feeds.timestep).toEqual({ dtype: 'int64', data: BigInt64Array.from([801n, 801n]), shape: [2] });
    expect(() => toTensor(fixture.inputs.timestep as never, tensors)).toThrow(/core tensors are float/);
  });

  it('stores float16 data as values float16 represents exactly', async () => {
    const fixture = await loadFixture('tiny-unet-fp16');
    // Outputs hold float32 arithmetic on the float16 weights: no float16 rounding there.
    for (const [name, t] of Object.entries(fixture.inputs)) {
      if (t.dtype !== 'float16') continue;
      const values = fixtureValues(t);
      expectClose(float16BitsToFloat32(float32ToFloat16Bits(values)), values, EXACT, `"${name}"`);
    }
  });
});

describe('loop fixtures', () => {
  it('start from torch.manual_seed(seed); torch.randn(shape), which core reproduces', async () => {
    for (const name of LOOP_FIXTURES) {
      const fixture = await loadFixture(name);
      const noise = new Generator(fixture.seed).randnValues(fixture.initialLatent.data.length);
      expectClose(
        noise,
        fixtureValues(fixture.initialLatent),
        // float32 sin/cos of 2π·u differ by an ulp or two between libraries; r ≤ 4 scales that.
        { atol: 4e-6, rtol: 0 },
        `${name} initial latent`,
      );
    }
  });

  it('record a DDIM + CFG trajectory that core DDIMScheduler and classifierFreeGuidance reproduce', async () => {
    const fixture = await loadFixture('tiny-unet-ddim-cfg');
    const scheduler = DDIMScheduler.fromConfig(fixture.scheduler, { onWarning: () => {} });
    scheduler.setTimesteps(fixture.numInferenceSteps);
    expect(scheduler.timesteps).toEqual(fixture.timesteps);
    const guidance = classifierFreeGuidance({ guidanceScale: fixture.guidanceScale });
    let x = toTensor(fixture.initialLatent, tensors);
    for (const [stepIndex, t] of scheduler.timesteps.entries()) {
      const out = toTensor(fixture.modelOutputs[stepIndex] as never, tensors);
      const parts = splitPasses(out, ['uncond', 'cond']);
      const eps = guidance.combine(parts, { timestep: t, stepIndex, numSteps: fixture.numInferenceSteps });
      const { prevSample, predOriginalSample } = scheduler.step(eps, t, x);
      disposeAll(out, parts.uncond, parts.cond, eps, predOriginalSample, x);
      x = prevSample;
      // Only float32 rounding separates the two: a tenth of the adapters' tolerance.
      const tolerance = { atol: fixture.tolerance.atol / 10, rtol: fixture.tolerance.rtol };
      expectClose(
        await x.data(),
        fixtureValues(fixture.trajectory[stepIndex] as never),
        tolerance,
        `step ${stepIndex}`,
      );
    }
  });

  it('record a flow Euler trajectory that SiTFlowScheduler reproduces', async () => {
    const fixture = await loadFixture('tiny-sit-flow-euler');
    const scheduler = new SiTFlowScheduler({ solver: 'euler' });
    scheduler.setTimesteps(fixture.numSteps);
    expect(scheduler.grid).toEqual(fixture.timeGrid.map((t) => Math.fround(t)));
    let x = toTensor(fixture.initialLatent, tensors);
    for (const [i, t] of scheduler.timesteps.entries()) {
      const v = toTensor(fixture.velocities[i] as never, tensors);
      const { prevSample, predOriginalSample } = scheduler.step(v, t, x);
      disposeAll(v, predOriginalSample, x);
      x = prevSample;
      const expected = fixtureValues(fixture.trajectory[i] as never);
      expectClose(await x.data(), expected, { atol: 1e-6, rtol: 1e-6 }, `step ${i}`);
    }
  });
});
