import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, UnsupportedOptionError } from '../errors';
import { Generator } from '../random/generator';
import { tensor } from '../tensor/index';
import { FlowMatchEulerDiscreteScheduler, calculateShift } from './flow-match-euler-discrete';
import { checkLinearForm } from './linear-form-check';
import { dummyModel, dummyNoise, dummySample, meanAbs, sumAbs } from './test-vectors';

/** SD3's shipped scheduler_config.json. */
const SD3_CONFIG = {
  _class_name: 'FlowMatchEulerDiscreteScheduler',
  _diffusers_version: '0.29.0.dev0',
  num_train_timesteps: 1000,
  shift: 3.0,
};

/** Flux's: the shift depends on the image size. */
const FLUX_CONFIG = {
  _class_name: 'FlowMatchEulerDiscreteScheduler',
  base_image_seq_len: 256,
  base_shift: 0.5,
  max_image_seq_len: 4096,
  max_shift: 1.15,
  num_train_timesteps: 1000,
  shift: 3.0,
  use_dynamic_shifting: true,
};

const closeAll = (actual: readonly number[], expected: readonly number[], digits: number) =>
  expect(actual).toEqual(expected.map((v) => expect.closeTo(v, digits)));

/** x ← step(dummyModel(x, t), t, x) over the schedule from `start` (after noising, when asked). */
async function loop(
  s: FlowMatchEulerDiscreteScheduler,
  { from = 0, generator = undefined as Generator | undefined } = {},
) {
  const timesteps = s.timesteps.slice(from);
  let x = dummySample();
  if (from > 0) x = s.addNoise(x, dummyNoise(), timesteps[0] as number);
  for (const t of timesteps) x = s.step(await dummyModel(x, t), t, x, { generator }).prevSample;
  return { sum: await sumAbs(x), mean: await meanAbs(x) };
}

describe('FlowMatchEulerDiscreteScheduler: schedules of the reference implementation', () => {
  it('SD3 (shift 3), 10 steps', () => {
    const s = FlowMatchEulerDiscreteScheduler.fromConfig(SD3_CONFIG);
    expect(s.sigmaMax).toBe(1);
    expect(s.sigmaMin).toBeCloseTo(0.002994012, 8);
    s.setTimesteps(10);
    closeAll(
      s.timesteps,
      [1000, 960.12933, 913.349, 857.69232, 790.36829, 707.2785, 602.15057, 464.87604, 278.0488, 8.9285717],
      3,
    );
    closeAll(
      s.sigmas,
      [
        1, 0.96012932, 0.91334897, 0.8576923, 0.79036826, 0.70727849, 0.60215056, 0.46487603, 0.27804878,
        0.0089285718, 0,
      ],
      6,
    );
  });

  it('no shift: evenly spaced from 1 to 1/N', () => {
    const s = new FlowMatchEulerDiscreteScheduler();
    s.setTimesteps(4);
    closeAll(s.timesteps, [1000, 667, 334, 1], 3);
    closeAll(s.sigmas, [1, 0.667, 0.334, 0.001, 0], 6);
  });

  it('shift is s·σ/(1 + (s − 1)·σ) of the unshifted sigmas', () => {
    const plain = new FlowMatchEulerDiscreteScheduler();
    plain.setTimesteps(6);
    const shifted = new FlowMatchEulerDiscreteScheduler({ shift: 2.5 });
    shifted.setTimesteps(6);
    // The inference range itself starts from the shifted train range's end, so compare through it.
    const lo = shifted.sigmaMin;
    const unshifted = Array.from({ length: 6 }, (_, i) => 1 + (i / 5) * (lo - 1));
    closeAll(
      shifted.sigmas.slice(0, 6),
      unshifted.map((u) => (2.5 * u) / (1 + 1.5 * u)),
      6,
    );
  });

  it('dynamic shifting (exponential and linear) with mu', () => {
    const s = new FlowMatchEulerDiscreteScheduler({ shift: 3, useDynamicShifting: true });
    s.setTimesteps(5, { mu: 0.8 });
    closeAll(s.sigmas, [1, 0.86988544, 0.69040215, 0.4268741, 0.0022228169, 0], 6);
    const linear = new FlowMatchEulerDiscreteScheduler({
      shift: 3,
      useDynamicShifting: true,
      timeShiftType: 'linear',
    });
    linear.setTimesteps(5, { mu: 0.8 });
    closeAll(linear.sigmas, [1, 0.70615917, 0.44493833, 0.21119124, 0.00080016005, 0], 6);
  });

  it('Flux: explicit float32 sigmas, mu from the image size', () => {
    const s = FlowMatchEulerDiscreteScheduler.fromConfig({ ...FLUX_CONFIG, shift: 1.0 });
    s.setTimesteps(4, { sigmas: [1, 0.75, 0.5, 0.25], mu: 1.0 });
    closeAll(s.timesteps, [1000, 890.76819, 731.05859, 475.36688], 3);
    // 1024² images: 64·64 latent tokens → max_shift; 256 tokens → base_shift.
    expect(calculateShift(4096, s.config)).toBeCloseTo(1.15, 12);
    expect(calculateShift(256, s.config)).toBeCloseTo(0.5, 12);
    expect(calculateShift(1024, s.config)).toBeCloseTo(0.5 + (0.65 * 768) / 3840, 12);
  });

  it('shift_terminal stretches the last sigma onto it; Karras respaces', () => {
    const t = new FlowMatchEulerDiscreteScheduler({ shift: 3, shiftTerminal: 0.1 });
    t.setTimesteps(5);
    closeAll(t.sigmas, [1, 0.90951526, 0.77399105, 0.5486567, 0.1, 0], 6);
    const k = new FlowMatchEulerDiscreteScheduler({ shift: 3, useKarrasSigmas: true });
    k.setTimesteps(5);
    closeAll(k.sigmas, [1, 0.40032154, 0.13959911, 0.040372707, 0.0089285718, 0], 6);
  });

  it('invert_sigmas runs σ from 0 up to 1', () => {
    const s = new FlowMatchEulerDiscreteScheduler({ invertSigmas: true });
    s.setTimesteps(4);
    closeAll(s.sigmas, [0, 0.333, 0.666, 0.999, 1], 6);
  });
});

describe('FlowMatchEulerDiscreteScheduler: loops (reference implementation values)', () => {
  it('dummy loop, shift 3 and shift 1', async () => {
    const sd3 = FlowMatchEulerDiscreteScheduler.fromConfig(SD3_CONFIG);
    sd3.setTimesteps(10);
    const a = await loop(sd3);
    expect(Math.abs(a.sum - 129.34945678710938)).toBeLessThan(1e-2);
    expect(Math.abs(a.mean - 0.16842377185821533)).toBeLessThan(1e-3);
    const plain = new FlowMatchEulerDiscreteScheduler();
    plain.setTimesteps(10);
    const b = await loop(plain);
    expect(Math.abs(b.sum - 133.36203002929688)).toBeLessThan(1e-2);
  });

  it('noised to the 4th timestep, then denoised', async () => {
    const s = FlowMatchEulerDiscreteScheduler.fromConfig(SD3_CONFIG);
    s.setTimesteps(10);
    const r = await loop(s, { from: 3 });
    expect(Math.abs(r.sum - 149.63864135742188)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 0.19484198093414307)).toBeLessThan(1e-3);
  });

  it('stochastic sampling with generator seed 0', async () => {
    const s = FlowMatchEulerDiscreteScheduler.fromConfig({ ...SD3_CONFIG, stochastic_sampling: true });
    s.setTimesteps(10);
    const r = await loop(s, { generator: new Generator(0) });
    expect(Math.abs(r.sum - 151.69729614257812)).toBeLessThan(1e-2);
  });
});

describe('FlowMatchEulerDiscreteScheduler: behaviour', () => {
  it('is exact for a constant velocity field', async () => {
    const s = FlowMatchEulerDiscreteScheduler.fromConfig(SD3_CONFIG);
    s.setTimesteps(7);
    const data = [0.25, 0.5, -1, 2];
    const noise = [1, -2, 0.5, 3];
    // Straight paths from data to noise: the velocity noise − data is the same everywhere.
    const v = tensor(
      noise.map((n, i) => n - (data[i] as number)),
      [4],
    );
    let x = tensor(noise, [4]);
    for (const t of s.timesteps) x = s.step(v, t, x).prevSample;
    closeAll(Array.from(await x.data()), data, 6);
  });

  it('use_dynamic_shifting without mu is a typed error naming the fix', () => {
    const s = FlowMatchEulerDiscreteScheduler.fromConfig(FLUX_CONFIG);
    expect(() => s.setTimesteps(4)).toThrow(InvalidArgumentError);
    expect(() => s.setTimesteps(4)).toThrow(/mu/);
    expect(() => new FlowMatchEulerDiscreteScheduler({ useBetaSigmas: true })).toThrow(
      UnsupportedOptionError,
    );
  });

  it('linearForm reproduces step() over a whole loop', async () => {
    const check = await checkLinearForm(FlowMatchEulerDiscreteScheduler.fromConfig(SD3_CONFIG), 12);
    expect(check.calls).toBe(12);
    expect(check.maxDeviation).toBeLessThan(1e-6);
  });

  it('stochastic linearForm: x0 re-noised, noise coefficient σ_next', () => {
    const s = new FlowMatchEulerDiscreteScheduler({ stochasticSampling: true });
    s.setTimesteps(4);
    const form = s.linearForm(s.timesteps[1] as number);
    expect(form.noise).toBeCloseTo(s.sigmas[2] as number, 6);
    expect(form.output).toBeCloseTo(-(1 - (s.sigmas[2] as number)) * (s.sigmas[1] as number), 6);
  });

  it('round-trips its config', () => {
    const s = FlowMatchEulerDiscreteScheduler.fromConfig(FLUX_CONFIG);
    expect(FlowMatchEulerDiscreteScheduler.fromConfig(s.toConfig()).config).toEqual(s.config);
  });
});
