import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnsupportedOptionError } from '../errors';
import { Generator } from '../random/generator';
import { linearCombination, mul } from '../tensor/index';
import { type ChurnOptions, EulerDiscreteScheduler } from './euler-discrete';
import { checkLinearForm } from './linear-form-check';
import { karrasSigmas } from './sigma-schedule';
import { dummyModel, dummyNoise, dummySample, meanAbs, sumAbs } from './test-vectors';

/** The reference suite's Euler config. */
const SUITE = { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };

/** SDXL's shipped scheduler_config.json (SD2.1's has the same schedule). */
const SDXL_CONFIG = {
  _class_name: 'EulerDiscreteScheduler',
  _diffusers_version: '0.19.0.dev0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  interpolation_type: 'linear',
  num_train_timesteps: 1000,
  prediction_type: 'epsilon',
  sample_max_value: 1.0,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  timestep_spacing: 'leading',
  trained_betas: null,
  use_karras_sigmas: false,
};

const quiet = { onWarning: () => {} };

/** The suite's loop: x = sample·σ_init; per step x ← scale(x), x ← step(model(x, t), t, x). */
async function fullLoop(
  config: Record<string, unknown>,
  { noisyFrom, churn = {} }: { noisyFrom?: number; churn?: ChurnOptions } = {},
) {
  const s = EulerDiscreteScheduler.fromConfig({ ...SUITE, ...config }, quiet);
  s.setTimesteps(10);
  const generator = new Generator(0);
  let x = mul(dummySample(), Math.fround(s.initNoiseSigma));
  let timesteps = s.timesteps;
  if (noisyFrom !== undefined) {
    timesteps = timesteps.slice(noisyFrom * s.order);
    x = s.addNoise(x, dummyNoise(), timesteps[0] as number);
  }
  for (const t of timesteps) {
    x = s.scaleModelInput(x, t);
    x = s.step(await dummyModel(x, t), t, x, { ...churn, generator }).prevSample;
  }
  return { sum: await sumAbs(x), mean: await meanAbs(x) };
}

describe('EulerDiscreteScheduler: published vectors', () => {
  it('no noise', async () => {
    const r = await fullLoop({});
    expect(Math.abs(r.sum - 10.0807)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 0.0131)).toBeLessThan(1e-3);
  });

  it('v-prediction', async () => {
    const r = await fullLoop({ prediction_type: 'v_prediction' });
    expect(Math.abs(r.sum - 0.0002)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 2.2676e-6)).toBeLessThan(1e-3);
  });

  it('karras sigmas', async () => {
    const r = await fullLoop({ use_karras_sigmas: true });
    expect(Math.abs(r.sum - 124.52299499511719)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 0.16213932633399963)).toBeLessThan(1e-3);
  });

  it('noise added at the 9th of 10 timesteps (generator seed 0)', async () => {
    const r = await fullLoop({}, { noisyFrom: 8 });
    expect(Math.abs(r.sum - 57062.9297)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 74.3007)).toBeLessThan(1e-3);
  });
});

describe('EulerDiscreteScheduler: values of the reference implementation', () => {
  it('churn (s_churn 1 for σ in [0.5, 50]) with generator seed 0', async () => {
    const r = await fullLoop({}, { churn: { sChurn: 1, sTmin: 0.5, sTmax: 50, sNoise: 1 } });
    expect(Math.abs(r.sum - 158.78524780273438)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 0.20675162971019745)).toBeLessThan(1e-3);
  });

  it('v-prediction with a constant model, pipeline style (unscaled x to step)', async () => {
    const s = EulerDiscreteScheduler.fromConfig({ ...SUITE, prediction_type: 'v_prediction' }, quiet);
    s.setTimesteps(4);
    let x = mul(dummySample(), Math.fround(s.initNoiseSigma));
    const sums: number[] = [];
    for (const t of s.timesteps) {
      s.scaleModelInput(x, t);
      x = s.step(linearCombination([[2, dummyNoise()]], -0.5), t, x).prevSample;
      sums.push(await sumAbs(x));
    }
    expect(sums).toEqual([4319.2324, 724.489, 554.7204, 559.1975].map((v) => expect.closeTo(v, 2)));
  });
});

describe('EulerDiscreteScheduler: schedules', () => {
  it('SD config, 10 linspace steps: the reference sigmas', () => {
    const s = EulerDiscreteScheduler.fromConfig({ ...SDXL_CONFIG, timestep_spacing: 'linspace' }, quiet);
    s.setTimesteps(10);
    expect(s.timesteps).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    const expected = [
      14.614647, 7.839885, 4.609176, 2.918308, 1.950162, 1.344929, 0.932358, 0.624977, 0.368659, 0.029168, 0,
    ];
    expect(s.sigmas).toEqual(expected.map((v) => expect.closeTo(v, 5)));
    expect(s.initNoiseSigma).toBeCloseTo(14.614647, 5);
  });

  it('SDXL shipped config (leading, steps_offset 1): timesteps, sigmas, init_noise_sigma', () => {
    const s = EulerDiscreteScheduler.fromConfig(SDXL_CONFIG, quiet);
    s.setTimesteps(10);
    expect(s.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    const expected = [
      8.390687, 5.134433, 3.347764, 2.292855, 1.623693, 1.168216, 0.8356532, 0.5740507, 0.3461873, 0.04131448,
      0,
    ];
    expect(s.sigmas).toEqual(expected.map((v) => expect.closeTo(v, 5)));
    // Leading spacing: √(σmax² + 1), not σmax.
    expect(s.initNoiseSigma).toBeCloseTo(8.450067, 5);
  });

  it('SD2.1 (v-prediction) with trailing spacing and zero-SNR rescaling', () => {
    const s = EulerDiscreteScheduler.fromConfig(
      {
        ...SDXL_CONFIG,
        prediction_type: 'v_prediction',
        timestep_spacing: 'trailing',
        rescale_betas_zero_snr: true,
      },
      quiet,
    );
    s.setTimesteps(10);
    expect(s.timesteps).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    // ᾱ_T is pinned at 2^-24: σ_T = √(2^24 − 1) ≈ 4096.
    expect(s.sigmas[0]).toBeCloseTo(4096, 2);
    const expected = [
      18.13006, 7.410708, 4.114187, 2.604857, 1.768081, 1.241375, 0.8747438, 0.5947521, 0.3549895,
    ];
    expect(s.sigmas.slice(1, -1)).toEqual(expected.map((v) => expect.closeTo(v, 4)));
    expect(s.initNoiseSigma).toBeCloseTo(4096, 2);
  });

  it('karras sigmas follow the formula and map back to fractional timesteps', () => {
    const s = EulerDiscreteScheduler.fromConfig(
      { ...SDXL_CONFIG, timestep_spacing: 'linspace', use_karras_sigmas: true },
      quiet,
    );
    s.setTimesteps(10);
    const sMax = 14.614647;
    const sMin = 0.0291675;
    const rho = 7;
    for (let i = 0; i < 10; i++) {
      const r = i / 9;
      const formula = (sMax ** (1 / rho) + r * (sMin ** (1 / rho) - sMax ** (1 / rho))) ** rho;
      expect(s.sigmas[i]).toBeCloseTo(formula, 4);
    }
    expect(karrasSigmas(sMin, sMax, 10)[4]).toBeCloseTo(1.749423, 5);
    const timesteps = [999, 916.284, 815.0449, 687.1533, 523.1989, 327.1472, 145.939, 40.85687, 6.732409, 0];
    expect(s.timesteps).toEqual(timesteps.map((t) => expect.closeTo(t, 2)));
  });

  it('final_sigmas_type sigma_min ends at σ(0) instead of 0', () => {
    const s = EulerDiscreteScheduler.fromConfig({ ...SDXL_CONFIG, final_sigmas_type: 'sigma_min' }, quiet);
    s.setTimesteps(4);
    expect(s.sigmas.at(-1)).toBeCloseTo(0.0291675, 6);
  });

  it('exponential sigmas are log-uniform', () => {
    const s = new EulerDiscreteScheduler({ useExponentialSigmas: true, sigmaMin: 0.1, sigmaMax: 10 });
    s.setTimesteps(5);
    expect(s.sigmas.slice(0, 5).map((v) => Math.log10(v))).toEqual(
      [1, 0.5, 0, -0.5, -1].map((v) => expect.closeTo(v, 5)),
    );
  });

  it('continuous timesteps for v-prediction are 0.25·log σ', () => {
    const s = new EulerDiscreteScheduler({ timestepType: 'continuous', predictionType: 'v_prediction' });
    s.setTimesteps(3);
    expect(s.timesteps).toEqual(s.sigmas.slice(0, -1).map((v) => expect.closeTo(0.25 * Math.log(v), 6)));
  });
});

describe('EulerDiscreteScheduler: state and options', () => {
  it('keeps a step index, reset by setTimesteps', async () => {
    const s = new EulerDiscreteScheduler();
    s.setTimesteps(3);
    expect(s.stepIndex).toBeNull();
    const x = dummySample();
    s.step(x, s.timesteps[0] as number, x);
    expect(s.stepIndex).toBe(1);
    s.setTimesteps(3);
    expect(s.stepIndex).toBeNull();
    expect(() => s.step(x, 123.5, x)).toThrow(InvalidArgumentError);
  });

  it('churn injects generator noise: same seed, same result; linearForm gives its scale', async () => {
    const run = async (seed: number) => {
      const s = new EulerDiscreteScheduler({ numTrainTimesteps: 1100 });
      s.setTimesteps(10);
      const t = s.timesteps[0] as number;
      const x = dummySample();
      const churn = { sChurn: 1, sNoise: 1.003 };
      const form = s.linearForm(t, churn);
      const out = s.step(x, t, x, { ...churn, generator: new Generator(seed) });
      return { form, sigma: s.sigmas[0] as number, values: await out.prevSample.data() };
    };
    const a = await run(0);
    const b = await run(0);
    const c = await run(1);
    expect(a.values).toEqual(b.values);
    expect(a.values).not.toEqual(c.values);
    // gamma = min(1/10, √2 − 1): the noise added has std σ·√((1.1)² − 1)·s_noise, times the x coefficient.
    expect(a.form.noise).toBeCloseTo(a.form.sample * 1.003 * Math.sqrt(1.1 ** 2 - 1) * a.sigma, 3);
    expect(a.form.noise).toBeGreaterThan(0);
  });

  it('rejects options it does not implement, naming them', () => {
    expect(() => new EulerDiscreteScheduler({ interpolationType: 'log_linear' })).toThrow(
      UnsupportedOptionError,
    );
    expect(() => new EulerDiscreteScheduler({ useBetaSigmas: true })).toThrow(/use_beta_sigmas/);
    expect(() => new EulerDiscreteScheduler({ useKarrasSigmas: true, useExponentialSigmas: true })).toThrow(
      InvalidArgumentError,
    );
  });

  it('round-trips its config', () => {
    const s = EulerDiscreteScheduler.fromConfig(SDXL_CONFIG, quiet);
    expect(EulerDiscreteScheduler.fromConfig(s.toConfig(), quiet).config).toEqual(s.config);
    expect(s.clone().config).toEqual(s.config);
  });
});

describe('EulerDiscreteScheduler: linear form', () => {
  for (const predictionType of ['epsilon', 'v_prediction', 'sample'] as const) {
    it(`reproduces step() over a whole loop (${predictionType})`, async () => {
      const s = EulerDiscreteScheduler.fromConfig({ ...SDXL_CONFIG, prediction_type: predictionType }, quiet);
      const check = await checkLinearForm(s, 8);
      expect(check.calls).toBe(8);
      expect(check.maxDeviation).toBeLessThan(1e-5);
    });
  }

  it('epsilon Euler is x + (σ_next − σ)·ε', () => {
    const s = new EulerDiscreteScheduler();
    s.setTimesteps(10);
    const form = s.linearForm(s.timesteps[2] as number);
    expect(form.sample).toBe(1);
    expect(form.output).toBeCloseTo((s.sigmas[3] as number) - (s.sigmas[2] as number), 6);
  });
});
