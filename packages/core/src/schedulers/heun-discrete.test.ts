import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnsupportedOptionError } from '../errors';
import { type Tensor, linearCombination, mul } from '../tensor/index';
import { HeunDiscreteScheduler } from './heun-discrete';
import { checkLinearForm } from './linear-form-check';
import { dummyModel, dummyNoise, dummySample, meanAbs, sumAbs } from './test-vectors';

const SUITE = { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
const SD_SCHEDULE = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  steps_offset: 1,
};
const quiet = { onWarning: () => {} };

type Model = (x: Tensor, t: number) => Promise<Tensor> | Tensor;

/**
 * The suite's loop: x = sample·σ_init, then per call x ← scale(x), x ← step(model(x, t), t, x).
 * With `pipeline`, the scaled input goes to the model only and step() gets the unscaled x.
 */
async function run(
  config: Record<string, unknown>,
  {
    model = dummyModel as Model,
    steps = 10,
    noisyFrom = undefined as number | undefined,
    pipeline = false,
  } = {},
) {
  const s = HeunDiscreteScheduler.fromConfig({ ...SUITE, ...config }, quiet);
  s.setTimesteps(steps);
  let x = mul(dummySample(), Math.fround(s.initNoiseSigma));
  let timesteps = s.timesteps;
  if (noisyFrom !== undefined) {
    timesteps = timesteps.slice(noisyFrom * s.order);
    x = s.addNoise(x, dummyNoise(), timesteps[0] as number);
  }
  const sums: number[] = [];
  for (const t of timesteps) {
    const input = s.scaleModelInput(x, t);
    const out = await model(input, t);
    x = s.step(out, t, pipeline ? x : input).prevSample;
    sums.push(await sumAbs(x));
  }
  return { sum: await sumAbs(x), mean: await meanAbs(x), sums };
}

/** A model that ignores its input: 2·noise − 0.5. */
const constantModel: Model = () => linearCombination([[2, dummyNoise()]], -0.5);

describe('HeunDiscreteScheduler: published vectors', () => {
  it('no noise', async () => {
    const r = await run({});
    expect(Math.abs(r.sum - 0.1233)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 0.0002)).toBeLessThan(1e-3);
  });

  it('v-prediction', async () => {
    const r = await run({ prediction_type: 'v_prediction' });
    expect(Math.abs(r.sum - 4.6934e-7)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 6.1112e-10)).toBeLessThan(1e-3);
  });

  it('karras sigmas', async () => {
    const r = await run({ use_karras_sigmas: true });
    expect(Math.abs(r.sum - 0.00015)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 1.9869554535034695e-7)).toBeLessThan(1e-2);
  });

  it('noise added at the 9th of 10 intervals', async () => {
    const r = await run({}, { noisyFrom: 8 });
    expect(Math.abs(r.sum - 75074.8906)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 97.7538)).toBeLessThan(1e-3);
  });
});

describe('HeunDiscreteScheduler: per-call values of the reference implementation', () => {
  // Sums of |x| after each of the 7 calls of a 4-interval loop, pipeline style.
  const cases: [string, Record<string, unknown>, number[]][] = [
    ['epsilon', {}, [145831.3281, 145831.3281, 149759.5625, 149759.5625, 150364.1562, 150364.1719, 150368.0]],
    [
      'epsilon, karras',
      { use_karras_sigmas: true },
      [137941.1875, 137941.1875, 149696.2188, 149696.2188, 150364.1562, 150364.1719, 150368.0],
    ],
    [
      'v-prediction',
      { prediction_type: 'v_prediction' },
      [4319.2324, 4626.1973, 755.8627, 1238.295, 659.8272, 1196.4066, 1200.1903],
    ],
    [
      'sample, clipped to ±0.5',
      { prediction_type: 'sample', clip_sample: true, clip_sample_range: 0.5 },
      [4751.231, 4751.2227, 798.8796, 798.8796, 288.4809, 288.481, 288.0],
    ],
  ];
  for (const [name, config, expected] of cases) {
    it(name, async () => {
      const r = await run(config, { model: constantModel, steps: 4, pipeline: true });
      expect(r.sums).toHaveLength(7);
      const relative = r.sums.map((v, i) => Math.abs(v - (expected[i] as number)) / (expected[i] as number));
      expect(Math.max(...relative)).toBeLessThan(2e-6);
    });
  }
});

describe('HeunDiscreteScheduler: schedule', () => {
  it('doubles inner timesteps and sigmas (SD config, leading)', () => {
    const s = HeunDiscreteScheduler.fromConfig({ ...SD_SCHEDULE, timestep_spacing: 'leading' }, quiet);
    s.setTimesteps(5);
    expect(s.timesteps).toEqual([801, 601, 601, 401, 401, 201, 201, 1, 1]);
    const sigmas = [
      5.134433, 2.292855, 2.292855, 1.168216, 1.168216, 0.5740507, 0.5740507, 0.04131448, 0.04131448, 0,
    ];
    expect(s.sigmas).toEqual(sigmas.map((v) => expect.closeTo(v, 5)));
    expect(s.initNoiseSigma).toBeCloseTo(5.2309089, 5);
  });

  it('alternates predictor and corrector; the last interval is first order', () => {
    const s = new HeunDiscreteScheduler();
    s.setTimesteps(3);
    const x = dummySample();
    const orders = s.timesteps.map((t) => {
      const first = s.stateInFirstOrder;
      s.step(x, t, x);
      return first;
    });
    expect(orders).toEqual([true, false, true, false, true]);
    expect(() => s.step(x, s.timesteps.at(-1) as number, x)).toThrow(InvalidArgumentError);
  });

  it('rejects what it does not implement', () => {
    expect(() => HeunDiscreteScheduler.fromConfig({ beta_schedule: 'exp' })).toThrow(/beta_schedule/);
    expect(() => new HeunDiscreteScheduler({ useBetaSigmas: true })).toThrow(UnsupportedOptionError);
    const clipped = new HeunDiscreteScheduler({ clipSample: true });
    clipped.setTimesteps(2);
    expect(() => clipped.linearForm(clipped.timesteps[0] as number)).toThrow(/non-linear/);
  });
});

describe('HeunDiscreteScheduler: linear form', () => {
  for (const predictionType of ['epsilon', 'v_prediction', 'sample'] as const) {
    it(`reproduces both stages of step() over a whole loop (${predictionType})`, async () => {
      const s = HeunDiscreteScheduler.fromConfig({ ...SD_SCHEDULE, prediction_type: predictionType }, quiet);
      const check = await checkLinearForm(s, 6);
      expect(check.calls).toBe(11);
      expect(check.usedHistory).toBe(true);
      expect(check.maxDeviation).toBeLessThan(1e-5);
    });
  }

  it('the corrector refers to the predictor: epsilon gives x_s + dt/2·(ε₁ + ε₂)', () => {
    const s = new HeunDiscreteScheduler();
    s.setTimesteps(4);
    const x = dummySample();
    s.step(x, s.timesteps[0] as number, x);
    const form = s.linearForm(s.timesteps[1] as number);
    const dt = (s.sigmas[1] as number) - (s.sigmas[0] as number);
    expect(form.sample).toBeCloseTo(0, 12);
    expect(form.output).toBeCloseTo(dt / 2, 5);
    expect(form.history).toEqual([{ sample: 1, output: expect.closeTo(dt / 2, 5) }]);
  });
});
