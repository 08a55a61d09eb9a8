import { describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError, UnsupportedOptionError } from '../errors';
import { randn } from '../random/index';
import { type Tensor, scale } from '../tensor/index';
import { DDIMScheduler } from './ddim';
import { DDIMInverseScheduler } from './ddim-inverse';
import { REFERENCE_SCHEDULE, SD_SCHEDULER_CONFIG, dummyLoop, expectVector } from './test-loop';

const BASE = {
  ...REFERENCE_SCHEDULE,
  clip_sample: true,
};

const SD_CONFIG = SD_SCHEDULER_CONFIG;

async function invertedDummy(overrides: Record<string, unknown>) {
  const s = DDIMInverseScheduler.fromConfig({ ...BASE, ...overrides });
  s.setTimesteps(10);
  return dummyLoop(s);
}

describe('DDIMInverseScheduler: published vectors', () => {
  it('no noise', async () => {
    await expectVector(await invertedDummy({}), { sum: 671.6816, mean: 0.8746 });
  });

  it('v_prediction', async () => {
    await expectVector(await invertedDummy({ prediction_type: 'v_prediction' }), {
      sum: 1394.2185,
      mean: 1.8154,
    });
  });

  it('set_alpha_to_one true / false (first alpha 0.99)', async () => {
    await expectVector(await invertedDummy({ set_alpha_to_one: true, beta_start: 0.01 }), {
      sum: 539.9622,
      mean: 0.7031,
    });
    await expectVector(await invertedDummy({ set_alpha_to_one: false, beta_start: 0.01 }), {
      sum: 542.6722,
      mean: 0.7066,
    });
  });

  it('reads the deprecated set_alpha_to_zero key as set_alpha_to_one', () => {
    const s = DDIMInverseScheduler.fromConfig({ ...BASE, set_alpha_to_zero: false });
    expect(s.config.setAlphaToOne).toBe(false);
  });
});

describe('DDIMInverseScheduler: timesteps', () => {
  it('ascend: leading with steps_offset, trailing', () => {
    const s = DDIMInverseScheduler.fromConfig({ ...BASE, steps_offset: 1 });
    s.setTimesteps(5);
    expect(s.timesteps).toEqual([1, 201, 401, 601, 801]);
    const t = new DDIMInverseScheduler({ timestepSpacing: 'trailing' });
    t.setTimesteps(10);
    expect(t.timesteps).toEqual([99, 199, 299, 399, 499, 599, 699, 799, 899, 999]);
  });

  it('steps from t − N div n (capped at N − 1) to t', () => {
    const s = DDIMInverseScheduler.fromConfig(SD_CONFIG, { onWarning: () => {} });
    s.setTimesteps(10);
    expect(s.sourceTimestep(1)).toBe(-99);
    expect(s.sourceTimestep(901)).toBe(801);
    const t = new DDIMInverseScheduler({ timestepSpacing: 'trailing' });
    t.setTimesteps(3);
    expect(t.timesteps).toEqual([332, 666, 999]);
    expect(t.sourceTimestep(999)).toBe(666);
  });

  it('refuses linspace spacing and steps before setTimesteps', () => {
    expect(() => new DDIMInverseScheduler({ timestepSpacing: 'linspace' }).setTimesteps(10)).toThrow(
      UnsupportedOptionError,
    );
    expect(() => new DDIMInverseScheduler({ clipSample: false }).linearForm(1)).toThrow(InvalidArgumentError);
  });
});

/** DDIM (eta 0) over its schedule, then DDIMInverse back; `model` gives the output at (x, t). */
async function roundTrip(
  steps: number,
  model: (x: Tensor, t: number, direction: 'down' | 'up') => Tensor,
  predictionType: 'epsilon' | 'v_prediction' = 'epsilon',
) {
  const config = { ...SD_CONFIG, prediction_type: predictionType };
  const ddim = DDIMScheduler.fromConfig(config, { onWarning: () => {} });
  const inverse = DDIMInverseScheduler.fromConfig(config, { onWarning: () => {} });
  ddim.setTimesteps(steps);
  inverse.setTimesteps(steps);
  expect([...inverse.timesteps].reverse()).toEqual(ddim.timesteps);
  const start = randn([1, 4, 8, 8], { seed: 3 });
  let x = start;
  for (const t of ddim.timesteps) x = ddim.step(model(x, t, 'down'), t, x).prevSample;
  for (const t of inverse.timesteps) x = inverse.step(model(x, t, 'up'), t, x).prevSample;
  const [a, b] = [await start.data(), await x.data()];
  return Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number))));
}

describe('DDIM followed by DDIMInverse', () => {
  it("round-trips exactly when each step's ε is replayed", async () => {
    const outputs = new Map<number, Tensor>();
    const error = await roundTrip(10, (x, t, direction) => {
      if (direction === 'down') outputs.set(t, scale(x, 0.3 + t / 2000));
      return outputs.get(t) as Tensor;
    });
    expect(error).toBeLessThan(1e-4);
  });

  for (const predictionType of ['epsilon', 'v_prediction'] as const) {
    it(`round-trips a linear model c_t·x, the error shrinking with more steps (${predictionType})`, async () => {
      const linear = (x: Tensor, t: number) => scale(x, 0.2 + t / 4000);
      const errors = [];
      for (const steps of [10, 50, 250]) errors.push(await roundTrip(steps, linear, predictionType));
      const [coarse, medium, fine] = errors as [number, number, number];
      expect(medium).toBeLessThan(coarse / 2);
      expect(fine).toBeLessThan(medium / 2);
    });
  }
});

describe('DDIMInverseScheduler: linear form', () => {
  it("reproduces step() and inverts DDIM's linear form at the same grid value", async () => {
    const config = { ...SD_CONFIG, prediction_type: 'epsilon' };
    const inverse = DDIMInverseScheduler.fromConfig(config, { onWarning: () => {} });
    const ddim = DDIMScheduler.fromConfig(config, { onWarning: () => {} });
    inverse.setTimesteps(10);
    ddim.setTimesteps(10);
    const x = randn([2, 4, 4, 4], { seed: 1 });
    const out = randn([2, 4, 4, 4], { seed: 2 });
    const [xs, os] = [await x.data(), await out.data()];
    for (const t of inverse.timesteps) {
      const form = inverse.linearForm(t);
      const actual = await inverse.step(out, t, x).prevSample.data();
      actual.forEach((v, i) => {
        expect(v).toBeCloseTo(form.sample * (xs[i] as number) + form.output * (os[i] as number), 4);
      });
      // x → DDIM → inverse with ε fixed: sample coefficients multiply to 1, output terms cancel.
      const down = ddim.linearForm(t);
      expect(form.sample * down.sample).toBeCloseTo(1, 5);
      expect(form.sample * down.output + form.output).toBeCloseTo(0, 5);
    }
  });

  it('is refused while clip_sample is on, and unknown keys warn', () => {
    expect(() => {
      const s = DDIMInverseScheduler.fromConfig(BASE);
      s.setTimesteps(10);
      s.linearForm(1);
    }).toThrow(UnsupportedOptionError);
    const warn = vi.fn();
    DDIMInverseScheduler.fromConfig({ ...BASE, skip_prk_steps: true }, { onWarning: warn });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('skip_prk_steps'));
    expect(DDIMInverseScheduler.fromConfig(BASE).toConfig()).toMatchObject({
      _class_name: 'DDIMInverseScheduler',
      clip_sample: true,
    });
  });
});
