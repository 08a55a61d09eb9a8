import { describe, expect, it, vi } from 'vitest';
import { InvalidConfigError } from '../errors';
import { randn } from '../random/index';
import { tensor } from '../tensor/index';
import { DDIMScheduler } from './ddim';
import { dummyLoop, expectVector } from './test-loop';
import { dummyModel, dummyNoise, dummySample, meanAbs, sumAbs } from './test-vectors';

const SD_CONFIG = {
  _class_name: 'DDIMScheduler',
  _diffusers_version: '0.8.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  prediction_type: 'v_prediction',
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
};

async function fullLoop(config: Record<string, unknown>, { eta = 0, steps = 10 } = {}) {
  const scheduler = DDIMScheduler.fromConfig(config, { onWarning: () => {} });
  scheduler.setTimesteps(steps);
  let x = dummySample();
  for (const t of scheduler.timesteps) {
    const out = await dummyModel(x, t);
    x = scheduler.step(out, t, x, { eta }).prevSample;
  }
  return x;
}

describe('DDIMScheduler: published vectors', () => {
  it('no noise (clip_sample true)', async () => {
    const x = await fullLoop({ clip_sample: true });
    expect(await sumAbs(x)).toBeCloseTo(172.0067, 1);
    expect(Math.abs((await meanAbs(x)) - 0.223967)).toBeLessThan(1e-3);
  });

  it('v-prediction', async () => {
    const x = await fullLoop({ clip_sample: true, prediction_type: 'v_prediction' });
    expect(Math.abs((await sumAbs(x)) - 52.5302)).toBeLessThan(1e-2);
    expect(Math.abs((await meanAbs(x)) - 0.0684)).toBeLessThan(1e-3);
  });
});

describe('DDIMScheduler: more published vectors', () => {
  const ddim = (overrides: Record<string, unknown> = {}) => {
    const s = DDIMScheduler.fromConfig({ clip_sample: true, ...overrides });
    s.setTimesteps(10);
    return s;
  };

  it('set_alpha_to_one true / false (first alpha 0.99)', async () => {
    await expectVector(await dummyLoop(ddim({ set_alpha_to_one: true, beta_start: 0.01 })), {
      sum: 149.8295,
      mean: 0.1951,
    });
    await expectVector(await dummyLoop(ddim({ set_alpha_to_one: false, beta_start: 0.01 })), {
      sum: 149.0784,
      mean: 0.1941,
    });
  });

  it('last two steps from the noised sample', async () => {
    const s = ddim();
    const x = await dummyLoop(s, { timesteps: s.timesteps.slice(8), addNoise: true });
    await expectVector(x, { sum: 354.5418, mean: 0.4616 });
  });
});

describe('DDIMScheduler: timesteps', () => {
  it('leading with steps_offset 1 (SD configs)', () => {
    const s = DDIMScheduler.fromConfig(SD_CONFIG, { onWarning: () => {} });
    s.setTimesteps(10);
    expect(s.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    s.setTimesteps(20);
    expect(s.timesteps[0]).toBe(951);
    expect(s.timesteps.at(-1)).toBe(1);
  });

  it('trailing and linspace', () => {
    const s = new DDIMScheduler({ timestepSpacing: 'trailing' });
    s.setTimesteps(10);
    expect(s.timesteps).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    const l = new DDIMScheduler({ timestepSpacing: 'linspace' });
    l.setTimesteps(10);
    expect(l.timesteps).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    expect(l.previousTimestep(999)).toBe(899);
  });
});

describe('DDIMScheduler: config handling', () => {
  it('warns on unknown keys and rejects invalid values naming the key', () => {
    const warn = vi.fn();
    DDIMScheduler.fromConfig(SD_CONFIG, { onWarning: warn });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('skip_prk_steps'));
    expect(() => DDIMScheduler.fromConfig({ beta_schedule: 'cubic' })).toThrow(InvalidConfigError);
    expect(() => DDIMScheduler.fromConfig({ beta_schedule: 'cubic' })).toThrow(/beta_schedule/);
    expect(() => DDIMScheduler.fromConfig({ num_train_timesteps: 10.5 })).toThrow(
      /num_train_timesteps.*integer/,
    );
  });

  it('round-trips its config as snake_case', () => {
    const s = DDIMScheduler.fromConfig(SD_CONFIG, { onWarning: () => {} });
    expect(s.toConfig()).toMatchObject({
      beta_schedule: 'scaled_linear',
      steps_offset: 1,
      _class_name: 'DDIMScheduler',
    });
  });
});

describe('DDIMScheduler: linear form', () => {
  for (const predictionType of ['epsilon', 'v_prediction', 'sample'] as const) {
    it(`reproduces step() for ${predictionType}`, async () => {
      const s = new DDIMScheduler({
        ...SD_CONFIG,
        clipSample: false,
        predictionType,
        betaSchedule: 'scaled_linear',
      });
      s.setTimesteps(10);
      const x = randn([2, 4, 8, 8], { seed: 1 });
      const out = randn([2, 4, 8, 8], { seed: 2 });
      for (const t of s.timesteps) {
        const form = s.linearForm(t);
        const expected = await s.step(out, t, x).prevSample.data();
        const xs = await x.data();
        const os = await out.data();
        expected.forEach((e, i) => {
          expect(form.sample * (xs[i] as number) + form.output * (os[i] as number)).toBeCloseTo(e, 4);
        });
      }
    });
  }

  it('DDIM a_t is sqrt(alpha_prev / alpha_t) for epsilon (paper Eq. 15)', () => {
    const s = new DDIMScheduler({ clipSample: false });
    s.setTimesteps(10);
    const t = s.timesteps[3] as number;
    const form = s.linearForm(t);
    const expected = Math.sqrt(s.alphaAt(t - 100) / s.alphaAt(t));
    expect(form.sample).toBeCloseTo(expected, 5);
  });

  it('addNoise mixes sample and noise by alphas_cumprod', async () => {
    const s = new DDIMScheduler();
    const x = tensor([1, 1, 1, 1], [4]);
    const n = tensor([0, 0, 0, 0], [4]);
    const v = await s.addNoise(x, n, 500).data();
    expect(v[0]).toBeCloseTo(Math.sqrt(s.alphaAt(500)), 6);
  });

  it('uses dummyNoise fixture consistently', async () => {
    expect(await sumAbs(dummyNoise())).toBeCloseTo(383.5, 3);
  });
});
