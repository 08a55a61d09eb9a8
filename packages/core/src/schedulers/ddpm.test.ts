import { describe, expect, it } from 'vitest';
import { InvalidConfigError, ShapeMismatchError, UnsupportedOptionError } from '../errors';
import { Generator, randn } from '../random/index';
import { concat, full } from '../tensor/index';
import { DDPMScheduler } from './ddpm';
import { REFERENCE_SCHEDULE, SD_SCHEDULER_CONFIG, dummyLoop, expectVector } from './test-loop';

/** The reference suite's DDPM config. */
const BASE = {
  ...REFERENCE_SCHEDULE,
  variance_type: 'fixed_small',
  clip_sample: true,
};

const SD_CONFIG = SD_SCHEDULER_CONFIG;
const quiet = { onWarning: () => {} };

const ddpm = (overrides: Record<string, unknown> = {}) => DDPMScheduler.fromConfig({ ...BASE, ...overrides });

describe('DDPMScheduler: published vectors (1000 ancestral steps, torch.manual_seed(0) noise)', () => {
  it('full loop', async () => {
    const x = await dummyLoop(ddpm(), { generator: new Generator(0) });
    await expectVector(x, { sum: 258.9606, mean: 0.3372 });
  });

  it('full loop with v_prediction', async () => {
    const x = await dummyLoop(ddpm({ prediction_type: 'v_prediction' }), { generator: new Generator(0) });
    await expectVector(x, { sum: 202.0296, mean: 0.2631 });
  });

  it('last two steps from the noised sample', async () => {
    const s = ddpm();
    const x = await dummyLoop(s, {
      timesteps: s.timesteps.slice(998),
      addNoise: true,
      generator: new Generator(0),
    });
    await expectVector(x, { sum: 387.9466, mean: 0.5051 });
  });

  it('posterior variances', () => {
    const s = ddpm();
    expect(s.noiseStd(0) ** 2).toBeLessThan(1e-5);
    expect(Math.abs(s.noiseStd(487) ** 2 - 0.00979)).toBeLessThan(1e-5);
    expect(Math.abs(s.noiseStd(999) ** 2 - 0.02)).toBeLessThan(1e-5);
  });
});

// Values computed with diffusers (torch, float32) on the same fixtures and loop.
describe('DDPMScheduler: cross-checked vectors', () => {
  it('squaredcos_cap_v2', async () => {
    const x = await dummyLoop(ddpm({ beta_schedule: 'squaredcos_cap_v2' }), { generator: new Generator(0) });
    await expectVector(x, { sum: 252.3719, mean: 0.3286 });
  });

  it('zero terminal SNR, trailing, v_prediction, 50 steps', async () => {
    const s = ddpm({
      rescale_betas_zero_snr: true,
      timestep_spacing: 'trailing',
      prediction_type: 'v_prediction',
    });
    s.setTimesteps(50);
    await expectVector(await dummyLoop(s, { generator: new Generator(0) }), { sum: 191.8073, mean: 0.2497 });
  });

  it('fixed_large, no clipping, 50 steps', async () => {
    const s = ddpm({ variance_type: 'fixed_large', clip_sample: false });
    s.setTimesteps(50);
    await expectVector(await dummyLoop(s, { generator: new Generator(0) }), { sum: 300.2369, mean: 0.3909 });
  });

  it('SD schedule, v_prediction, 25 steps', async () => {
    const s = DDPMScheduler.fromConfig({ ...SD_CONFIG, prediction_type: 'v_prediction' }, quiet);
    s.setTimesteps(25);
    await expectVector(await dummyLoop(s, { generator: new Generator(0) }), { sum: 185.8431, mean: 0.242 });
  });
});

describe('DDPMScheduler: timesteps', () => {
  it('walks every train timestep before setTimesteps', () => {
    const s = ddpm();
    expect(s.timesteps).toHaveLength(1000);
    expect(s.timesteps[0]).toBe(999);
    expect(s.previousTimestep(500)).toBe(499);
  });

  it('SD2.1/SDXL config: leading with steps_offset 1, and trailing', () => {
    const s = DDPMScheduler.fromConfig(SD_CONFIG, quiet);
    s.setTimesteps(10);
    expect(s.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    expect(s.previousTimestep(101)).toBe(1);
    expect(s.previousTimestep(1)).toBe(-1);
    const t = DDPMScheduler.fromConfig({ ...SD_CONFIG, timestep_spacing: 'trailing' }, quiet);
    t.setTimesteps(25);
    expect(t.timesteps.slice(0, 4)).toEqual([999, 959, 919, 879]);
    expect(t.timesteps.at(-1)).toBe(39);
  });
});

const maxDifference = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);

describe('DDPMScheduler: variance types', () => {
  const shape = [2, 3, 4, 4];
  const t = 100;
  const stepWith = async (config: Record<string, unknown>, output = randn(shape, { seed: 2 })) => {
    const s = ddpm({ clip_sample: false, ...config });
    s.setTimesteps(10);
    return s.step(output, t, randn(shape, { seed: 1 }), { generator: new Generator(7) }).prevSample.data();
  };

  it('fixed_small_log matches fixed_small, fixed_large_log matches fixed_large', async () => {
    const small = await stepWith({ variance_type: 'fixed_small' });
    const smallLog = await stepWith({ variance_type: 'fixed_small_log' });
    const large = await stepWith({ variance_type: 'fixed_large' });
    const largeLog = await stepWith({ variance_type: 'fixed_large_log' });
    expect(maxDifference(smallLog, small)).toBeLessThan(1e-5);
    expect(maxDifference(largeLog, large)).toBeLessThan(1e-5);
    expect(large.some((v, i) => Math.abs(v - (small[i] as number)) > 1e-3)).toBe(true);
  });

  it('learned_range interpolates between the fixed variances; learned takes the variance as given', async () => {
    const eps = randn(shape, { seed: 2 });
    const withVariance = (v: number) => concat([eps, full(shape, v)], 1);
    const small = await stepWith({ variance_type: 'fixed_small' }, eps);
    const large = await stepWith({ variance_type: 'fixed_large' }, eps);
    const atMinus1 = await stepWith({ variance_type: 'learned_range' }, withVariance(-1));
    const atPlus1 = await stepWith({ variance_type: 'learned_range' }, withVariance(1));
    expect(maxDifference(atMinus1, small)).toBeLessThan(1e-5);
    expect(maxDifference(atPlus1, large)).toBeLessThan(1e-5);
    const fixed = ddpm();
    fixed.setTimesteps(10);
    const variance = fixed.noiseStd(t) ** 2;
    const learned = await stepWith({ variance_type: 'learned' }, withVariance(variance));
    expect(maxDifference(learned, small)).toBeLessThan(1e-5);
  });

  it('learned variance types need the variance channels', () => {
    const s = ddpm({ variance_type: 'learned_range' });
    expect(() => s.step(randn(shape), t, randn(shape))).toThrow(ShapeMismatchError);
  });
});

describe('DDPMScheduler: linear form', () => {
  for (const predictionType of ['epsilon', 'v_prediction', 'sample'] as const) {
    it(`reproduces step() including its noise for ${predictionType}`, async () => {
      const s = DDPMScheduler.fromConfig({ ...SD_CONFIG, prediction_type: predictionType }, quiet);
      s.setTimesteps(10);
      const shape = [2, 4, 8, 8];
      const x = randn(shape, { seed: 1 });
      const out = randn(shape, { seed: 2 });
      const [xs, os] = [await x.data(), await out.data()];
      for (const [k, t] of s.timesteps.entries()) {
        const form = s.linearForm(t);
        const actual = await s.step(out, t, x, { generator: new Generator(k) }).prevSample.data();
        const z = new Generator(k).randnValues(xs.length);
        actual.forEach((v, i) => {
          const expected =
            form.sample * (xs[i] as number) +
            form.output * (os[i] as number) +
            (form.noise ?? 0) * (z[i] as number);
          expect(Math.abs(v - expected)).toBeLessThan(1e-4 * (1 + Math.abs(v)));
        });
      }
    });
  }

  it('is refused where x0 is clipped or the variance is learned', () => {
    expect(() => ddpm().linearForm(500)).toThrow(UnsupportedOptionError);
    expect(() => ddpm({ clip_sample: false, variance_type: 'learned' }).linearForm(500)).toThrow(/learned/);
  });
});

describe('DDPMScheduler: config', () => {
  it('round-trips as snake_case and rejects unknown variance types', () => {
    expect(ddpm({ variance_type: 'fixed_large' }).toConfig()).toMatchObject({
      _class_name: 'DDPMScheduler',
      variance_type: 'fixed_large',
      clip_sample: true,
    });
    expect(() => ddpm({ variance_type: 'wide' })).toThrow(InvalidConfigError);
    expect(ddpm().clone().config).toEqual(ddpm().config);
  });
});
