import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidConfigError, UnsupportedOptionError } from '../errors';
import { Generator, randn } from '../random/index';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep';
import { checkLinearForm } from './linear-form-check';
import { REFERENCE_SCHEDULE, SD_SCHEDULER_CONFIG, dummyLoop, expectVector } from './test-loop';

/** The reference suite's DPM-Solver config. */
const BASE = {
  ...REFERENCE_SCHEDULE,
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  sample_max_value: 1.0,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: false,
  euler_at_final: false,
  variance_type: null,
  final_sigmas_type: 'sigma_min',
};

const SD_CONFIG = SD_SCHEDULER_CONFIG;

const quiet = { onWarning: () => {} };
const dpm = (overrides: Record<string, unknown> = {}) =>
  DPMSolverMultistepScheduler.fromConfig({ ...BASE, ...overrides }, quiet);

async function loop(overrides: Record<string, unknown>, steps = 10) {
  const s = dpm(overrides);
  s.setTimesteps(steps);
  return dummyLoop(s, { generator: new Generator(0) });
}

describe('DPMSolverMultistepScheduler: published vectors (10 steps)', () => {
  it('DPM-Solver++ 2M', async () => {
    await expectVector(await loop({}), { mean: 0.3301 });
  });

  it('from the noised sample at the 6th timestep', async () => {
    const s = dpm();
    s.setTimesteps(10);
    const x = await dummyLoop(s, { timesteps: s.timesteps.slice(5), addNoise: true });
    await expectVector(x, { sum: 318.4111, mean: 0.4146 });
  });

  it('dynamic thresholding', async () => {
    const x = await loop({ thresholding: true, dynamic_thresholding_ratio: 0.87, sample_max_value: 0.5 });
    await expectVector(x, { mean: 1.1364 });
  });

  it('v_prediction, plain, with Karras sigmas and with Lu lambdas', async () => {
    await expectVector(await loop({ prediction_type: 'v_prediction' }), { mean: 0.2251 });
    await expectVector(await loop({ prediction_type: 'v_prediction', use_karras_sigmas: true }), {
      mean: 0.2096,
    });
    await expectVector(await loop({ prediction_type: 'v_prediction', use_lu_lambdas: true }), {
      mean: 0.1554,
    });
  });
});

// Values computed with diffusers (torch, float32) on the same fixtures and loop (generator seeded 0).
describe('DPMSolverMultistepScheduler: cross-checked vectors', () => {
  const cases: [string, Record<string, unknown>, number, number, number?][] = [
    ['first order', { solver_order: 1 }, 172.2642, 0.2243],
    ['third order', { solver_order: 3 }, 176.9652, 0.2304],
    ['third order, lower_order_final', { solver_order: 3, lower_order_final: true }, 190.1711, 0.2476],
    ['heun', { solver_type: 'heun' }, 292.1283, 0.3804],
    ['DPM-Solver (ε form)', { algorithm_type: 'dpmsolver' }, 223.586, 0.2911],
    [
      'DPM-Solver 3, heun',
      { algorithm_type: 'dpmsolver', solver_order: 3, solver_type: 'heun' },
      205.0089,
      0.2669,
    ],
    [
      'DPM-Solver, v_prediction',
      { algorithm_type: 'dpmsolver', prediction_type: 'v_prediction' },
      119.1243,
      0.1551,
    ],
    ['SDE-DPM-Solver++ 2M', { algorithm_type: 'sde-dpmsolver++' }, 525.9482, 0.6848],
    ['SDE-DPM-Solver++ 3M', { algorithm_type: 'sde-dpmsolver++', solver_order: 3 }, 1409.0498, 1.8347],
    ['SDE-DPM-Solver, heun', { algorithm_type: 'sde-dpmsolver', solver_type: 'heun' }, 1314.8928, 1.7121],
    ['final sigma zero', { final_sigmas_type: 'zero', lower_order_final: true }, 185.0114, 0.2409],
    [
      'Karras, euler_at_final, 25 steps',
      { euler_at_final: true, use_karras_sigmas: true },
      203.2544,
      0.2647,
      25,
    ],
    [
      'sample prediction, third order, 20 steps',
      { prediction_type: 'sample', solver_order: 3 },
      600.165,
      0.7815,
      20,
    ],
    [
      'zero terminal SNR, trailing, v_prediction',
      {
        rescale_betas_zero_snr: true,
        timestep_spacing: 'trailing',
        prediction_type: 'v_prediction',
        final_sigmas_type: 'zero',
      },
      75.3639,
      0.0981,
    ],
    ['exponential sigmas', { use_exponential_sigmas: true }, 209.2339, 0.2724],
    [
      'squaredcos_cap_v2 with Karras sigmas',
      { beta_schedule: 'squaredcos_cap_v2', use_karras_sigmas: true },
      197.956,
      0.2578,
    ],
  ];
  for (const [name, overrides, sum, mean, steps] of cases) {
    it(name, async () => {
      await expectVector(await loop(overrides, steps), { sum, mean });
    });
  }

  it('SD schedule, Karras sigmas, 50 steps (a repeated timestep)', async () => {
    const s = DPMSolverMultistepScheduler.fromConfig(
      { ...BASE, ...SD_CONFIG, use_karras_sigmas: true, final_sigmas_type: 'zero', lower_order_final: true },
      quiet,
    );
    s.setTimesteps(50);
    expect(s.timesteps.slice(-4)).toEqual([2, 1, 1, 0]);
    await expectVector(await dummyLoop(s, { generator: new Generator(0) }), { sum: 204.3106, mean: 0.266 });
  });
});

describe('DPMSolverMultistepScheduler: SD2.1/SDXL timesteps and sigmas', () => {
  const sd = (overrides: Record<string, unknown> = {}) => {
    const s = DPMSolverMultistepScheduler.fromConfig({ ...SD_CONFIG, ...overrides }, quiet);
    s.setTimesteps(10);
    return s;
  };

  it('linspace (the default when the config names no spacing)', () => {
    const s = sd();
    expect(s.timesteps).toEqual([999, 899, 799, 699, 599, 500, 400, 300, 200, 100]);
    expect(s.sigmas[0]).toBeCloseTo(14.614645, 4);
    expect(s.sigmas[5]).toBeCloseTo(1.61828, 5);
    expect(s.sigmas.at(-1)).toBe(0);
  });

  it('leading with steps_offset 1, and trailing', () => {
    expect(sd({ timestep_spacing: 'leading' }).timesteps).toEqual([
      901, 811, 721, 631, 541, 451, 361, 271, 181, 91,
    ]);
    expect(sd({ timestep_spacing: 'trailing' }).timesteps).toEqual([
      999, 899, 799, 699, 599, 499, 399, 299, 199, 99,
    ]);
  });

  it('Karras, exponential and Lu respacings', () => {
    const karras = sd({ use_karras_sigmas: true });
    expect(karras.timesteps).toEqual([999, 916, 815, 687, 523, 327, 146, 41, 7, 0]);
    expect(karras.sigmas[1]).toBeCloseTo(9.102936, 4);
    expect(karras.sigmas[9]).toBeCloseTo(0.029168, 5);
    expect(sd({ use_exponential_sigmas: true }).timesteps).toEqual([
      999, 874, 723, 538, 329, 152, 52, 14, 2, 0,
    ]);
    expect(sd({ use_lu_lambdas: true }).timesteps).toEqual([999, 875, 724, 538, 330, 153, 52, 14, 3, 0]);
  });

  it('lambda_min_clipped cuts the noisiest timesteps', () => {
    expect(sd({ lambda_min_clipped: -2.5 }).timesteps).toEqual([
      968, 871, 774, 678, 581, 484, 387, 290, 194, 97,
    ]);
    expect(sd({ lambda_min_clipped: -2.5, timestep_spacing: 'trailing' }).timesteps).toEqual([
      968, 868, 768, 668, 568, 468, 368, 268, 168, 68,
    ]);
    expect(sd({ lambda_min_clipped: -2.5, timestep_spacing: 'leading' }).timesteps[0]).toBe(881);
  });
});

describe('DPMSolverMultistepScheduler: linear form', () => {
  const configs: [string, Record<string, unknown>][] = [
    ['DPM-Solver++ 2M, epsilon', {}],
    ['DPM-Solver++ 3M, v_prediction', { solver_order: 3, prediction_type: 'v_prediction' }],
    ['DPM-Solver++ 2M heun, sample prediction', { solver_type: 'heun', prediction_type: 'sample' }],
    ['DPM-Solver 3, epsilon', { algorithm_type: 'dpmsolver', solver_order: 3 }],
    [
      'DPM-Solver 2, v_prediction, Karras',
      { algorithm_type: 'dpmsolver', prediction_type: 'v_prediction', use_karras_sigmas: true },
    ],
    ['SD config, final sigma zero', { ...SD_CONFIG, final_sigmas_type: 'zero', lower_order_final: true }],
  ];
  for (const [name, overrides] of configs) {
    it(`reproduces step() with history terms: ${name}`, async () => {
      const check = await checkLinearForm(dpm(overrides), 12);
      expect(check.maxDeviation).toBeLessThan(1e-4);
      expect(check.usedHistory).toBe(true);
      expect(check.calls).toBe(12);
    });
  }

  it("SDE variant: the noise coefficient scales the generator's draw", async () => {
    const s = dpm({ algorithm_type: 'sde-dpmsolver++' });
    s.setTimesteps(5);
    const shape = [1, 4, 4, 4];
    const x = randn(shape, { seed: 1 });
    const out = randn(shape, { seed: 2 });
    const t = s.timesteps[0] as number;
    const form = s.linearForm(t);
    const actual = await s.step(out, t, x, { generator: new Generator(9) }).prevSample.data();
    const z = new Generator(9).randnValues(actual.length);
    const [xs, os] = [await x.data(), await out.data()];
    expect(form.noise).toBeGreaterThan(0);
    actual.forEach((v, i) => {
      const expected =
        form.sample * (xs[i] as number) +
        form.output * (os[i] as number) +
        (form.noise ?? 0) * (z[i] as number);
      expect(v).toBeCloseTo(expected, 4);
    });
  });

  it('is refused with thresholding', () => {
    const s = dpm({ thresholding: true });
    s.setTimesteps(10);
    expect(() => s.linearForm(s.timesteps[0] as number)).toThrow(UnsupportedOptionError);
  });
});

describe('DPMSolverMultistepScheduler: state and config', () => {
  it('maps DEIS and UniPC solver names as diffusers does, and validates', () => {
    const s = dpm({ algorithm_type: 'deis', solver_type: 'bh2' });
    expect(s.config.algorithmType).toBe('dpmsolver++');
    expect(s.config.solverType).toBe('midpoint');
    expect(s.toConfig()).toMatchObject({
      _class_name: 'DPMSolverMultistepScheduler',
      algorithm_type: 'dpmsolver++',
    });
    expect(() => dpm({ algorithm_type: 'dpmsolver', final_sigmas_type: 'zero' })).toThrow(
      UnsupportedOptionError,
    );
    expect(() => dpm({ algorithm_type: 'sde-dpmsolver', solver_order: 3 })).toThrow(/solver_order/);
    expect(() => dpm({ solver_order: 4 })).toThrow(InvalidConfigError);
    expect(() => dpm({ use_karras_sigmas: true, use_exponential_sigmas: true })).toThrow(
      InvalidArgumentError,
    );
    expect(() => dpm({ use_beta_sigmas: true })).toThrow(UnsupportedOptionError);
  });

  it('steps only timesteps of the schedule, after setTimesteps', () => {
    const s = dpm();
    const x = randn([1, 4, 2, 2]);
    expect(() => s.step(x, 999, x)).toThrow(/setTimesteps/);
    s.setTimesteps(10);
    expect(() => s.step(x, 998, x)).toThrow(/not in the current schedule/);
    expect(s.clone().timesteps).toHaveLength(1000);
  });
});
