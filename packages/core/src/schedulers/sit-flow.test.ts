import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidConfigError } from '../errors';
import { type Tensor, linearCombination, tensor } from '../tensor/index';
import { checkLinearForm } from './linear-form-check';
import { SiTFlowScheduler } from './sit-flow';

const NOISE = [1, -2, 0.5, 3];
const DATA = [0.25, 0.5, -1, 2];

async function values(x: Tensor): Promise<number[]> {
  return Array.from(await x.data());
}

/** Integrates dx/dt = field(x, t) from `start` with the scheduler's own loop. */
async function integrate(s: SiTFlowScheduler, start: number[], field: (x: Tensor, t: number) => Tensor) {
  let x = tensor(start, [start.length]);
  for (const t of s.timesteps) x = s.step(field(x, t), t, x).prevSample;
  return values(x);
}

describe('SiTFlowScheduler: schedule', () => {
  it('20 Euler steps: t = 0, 0.05, …, 0.95 ascending, one call each', () => {
    const s = new SiTFlowScheduler();
    s.setTimesteps(20);
    expect(s.timesteps).toHaveLength(20);
    expect(s.timesteps).toEqual(Array.from({ length: 20 }, (_, i) => expect.closeTo(i / 20, 7)));
    expect(s.grid.at(-1)).toBe(1);
    expect(s.sigmas[0]).toBe(1);
    expect(s.order).toBe(1);
    expect(s.initNoiseSigma).toBe(1);
  });

  it('Heun calls twice per interval; the last interval first order unless asked', () => {
    const heun = new SiTFlowScheduler({ solver: 'heun' });
    heun.setTimesteps(4);
    expect(heun.timesteps).toEqual([0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75]);
    const full = new SiTFlowScheduler({ solver: 'heun', heunFinalStep: 'heun' });
    full.setTimesteps(4);
    expect(full.timesteps).toEqual([0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1]);
  });

  it('reads its config and rejects unknown solvers', () => {
    const s = SiTFlowScheduler.fromConfig({ _class_name: 'SiTFlowScheduler', solver: 'heun' });
    expect(s.config.solver).toBe('heun');
    expect(SiTFlowScheduler.fromConfig(s.toConfig()).config).toEqual(s.config);
    expect(() => SiTFlowScheduler.fromConfig({ solver: 'dopri5' })).toThrow(InvalidConfigError);
    expect(() => s.setTimesteps(0)).toThrow(InvalidArgumentError);
  });
});

describe('SiTFlowScheduler: integration', () => {
  it('Euler is exact for a constant velocity field (the straight interpolant path)', async () => {
    const s = new SiTFlowScheduler();
    s.setTimesteps(20);
    const v = tensor(
      DATA.map((d, i) => d - (NOISE[i] as number)),
      [4],
    );
    const end = await integrate(s, NOISE, () => v);
    expect(end).toEqual(DATA.map((d) => expect.closeTo(d, 5)));
  });

  it('Heun is exact for a velocity linear in t; with a first-order last interval it is off by b·dt²/2', async () => {
    // dx/dt = a + b·t: x(1) = x(0) + a + b/2.
    const a = 0.3;
    const b = 1.7;
    const field = (x: Tensor, t: number) => linearCombination([[0, x]], a + b * t);
    const full = new SiTFlowScheduler({ solver: 'heun', heunFinalStep: 'heun' });
    full.setTimesteps(5);
    const [exactEnd] = await integrate(full, [0], field);
    expect(exactEnd).toBeCloseTo(a + b / 2, 6);
    const firstOrderLast = new SiTFlowScheduler({ solver: 'heun' });
    firstOrderLast.setTimesteps(5);
    const [end] = await integrate(firstOrderLast, [0], field);
    expect((end as number) - (a + b / 2)).toBeCloseTo(-(b * 0.2 ** 2) / 2, 6);
  });

  it('Euler converges at first order, Heun at second (dx/dt = −x)', async () => {
    const decay = (x: Tensor) => linearCombination([[-1, x]]);
    const error = async (solver: 'euler' | 'heun', n: number) => {
      const s = new SiTFlowScheduler({ solver, heunFinalStep: 'heun' });
      s.setTimesteps(n);
      const [end] = await integrate(s, [1], decay);
      return Math.abs((end as number) - Math.exp(-1));
    };
    expect((await error('euler', 10)) / (await error('euler', 20))).toBeCloseTo(2, 0);
    expect((await error('heun', 10)) / (await error('heun', 20))).toBeCloseTo(4, 0);
  });

  it('predOriginalSample follows the velocity to t = 1; addNoise is the interpolant', async () => {
    const s = new SiTFlowScheduler();
    s.setTimesteps(4);
    const data = tensor(DATA, [4]);
    const noise = tensor(NOISE, [4]);
    const t = s.timesteps[2] as number;
    const xt = s.addNoise(data, noise, t);
    expect(await values(xt)).toEqual(
      DATA.map((d, i) => expect.closeTo(t * d + (1 - t) * (NOISE[i] as number), 6)),
    );
    const v = linearCombination([
      [1, data],
      [-1, noise],
    ]);
    s.step(v, s.timesteps[0] as number, xt);
    s.step(v, s.timesteps[1] as number, xt);
    const { predOriginalSample } = s.step(v, t, xt);
    expect(await values(predOriginalSample)).toEqual(DATA.map((d) => expect.closeTo(d, 6)));
    expect(() => s.addNoise(data, noise, 2)).toThrow(InvalidArgumentError);
  });
});

describe('SiTFlowScheduler: linear form', () => {
  const cases: [string, ConstructorParameters<typeof SiTFlowScheduler>[0], number][] = [
    ['euler', { solver: 'euler' }, 10],
    ['heun, first-order last interval', { solver: 'heun' }, 19],
    ['heun throughout', { solver: 'heun', heunFinalStep: 'heun' }, 20],
  ];
  for (const [name, config, calls] of cases) {
    it(`reproduces step() over a whole loop (${name})`, async () => {
      const check = await checkLinearForm(new SiTFlowScheduler(config), 10);
      expect(check.calls).toBe(calls);
      expect(check.usedHistory).toBe(config?.solver === 'heun');
      expect(check.maxDeviation).toBeLessThan(1e-6);
    });
  }

  it('Euler: x + dt·v; Heun corrector: x_s + dt/2·(v₁ + v₂)', () => {
    const euler = new SiTFlowScheduler();
    euler.setTimesteps(20);
    expect(euler.linearForm(0)).toEqual({ sample: 1, output: expect.closeTo(0.05, 7) });
    const heun = new SiTFlowScheduler({ solver: 'heun' });
    heun.setTimesteps(4);
    const x = tensor([1], [1]);
    heun.step(x, 0, x);
    expect(heun.linearForm(0.25)).toEqual({
      sample: 0,
      output: 0.125,
      history: [{ sample: 1, output: 0.125 }],
    });
  });
});
