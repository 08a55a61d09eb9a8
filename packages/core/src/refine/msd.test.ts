import { describe, expect, it } from 'vitest';
import {
  DDIMScheduler,
  clone,
  type Tensor,
  msdGradient,
  msdLoss,
  randn,
  runStoppedTrajectory,
  scale,
  tensor,
  trajectoryJacobianScale,
} from '../index';

const sdConfig = {
  betaSchedule: 'scaled_linear' as const,
  betaStart: 0.00085,
  betaEnd: 0.012,
  clipSample: false,
  setAlphaToOne: false,
  stepsOffset: 1,
};

/** A denoiser whose output does not depend on x: its Jacobian is exactly what MSD assumes away. */
const constantOutput = (out: Tensor) => () => clone(out);

async function trajectoryEnd(scheduler: DDIMScheduler, start: Tensor, out: Tensor, steps: number) {
  return (await runStoppedTrajectory(scheduler, constantOutput(out), start, steps)).final.data();
}

describe('MSD trajectory Jacobian', () => {
  it('is the product of DDIM a_t = sqrt(alpha_prev / alpha_t) for epsilon prediction (paper Eq. 5)', async () => {
    const scheduler = new DDIMScheduler(sdConfig);
    scheduler.setTimesteps(10);
    const forms = scheduler.timesteps.map((t) => scheduler.linearForm(t));
    let expected = 1;
    for (const t of scheduler.timesteps)
      expected *= Math.sqrt(scheduler.alphaAt(t - 100) / scheduler.alphaAt(t));
    expect(trajectoryJacobianScale(forms)).toBeCloseTo(expected, 5);
  });

  it('matches finite differences of a trajectory with a fixed model output', async () => {
    const scheduler = new DDIMScheduler({ ...sdConfig, predictionType: 'v_prediction' });
    const start = randn([1, 4, 4, 4], { seed: 3 });
    const out = randn([1, 4, 4, 4], { seed: 4 });
    const { jacobianScale } = await runStoppedTrajectory(scheduler, constantOutput(out), start, 10);
    const h = 1e-2;
    const plus = await trajectoryEnd(scheduler, scale(start, 1 + h), out, 10);
    const minus = await trajectoryEnd(scheduler, scale(start, 1 - h), out, 10);
    const x = await start.data();
    for (const i of [0, 5, 17, 63]) {
      const fd = ((plus[i] as number) - (minus[i] as number)) / (2 * h * (x[i] as number));
      expect(fd).toBeCloseTo(jacobianScale, 3);
    }
  });

  it('reaches back through history terms of multistep solvers', () => {
    // x1 = 0.5·x0; x2 = 0.5·x1 + 0.25·x0 → dx2/dx0 = 0.25 + 0.25.
    const forms = [
      { sample: 0.5, output: 1 },
      { sample: 0.5, output: 1, history: [{ sample: 0.25, output: 0 }] },
    ];
    expect(trajectoryJacobianScale(forms)).toBeCloseTo(0.5, 12);
  });
});

describe('MSD loss', () => {
  it('equals the latent-space MSE, and its closed-form gradient is 2·(∏a)·(x̂0 − target)/n', async () => {
    const scheduler = new DDIMScheduler(sdConfig);
    const refined = randn([2, 4, 4, 4], { seed: 5 });
    const target = randn([2, 4, 4, 4], { seed: 6 });
    const out = randn([2, 4, 4, 4], { seed: 7 });
    const trajectory = await runStoppedTrajectory(scheduler, constantOutput(out), refined, 10);
    const loss = (await msdLoss(refined, trajectory, target).data())[0] as number;
    const end = await trajectory.final.data();
    const tgt = await target.data();
    let mse = 0;
    end.forEach((v, i) => {
      mse += (v - (tgt[i] as number)) ** 2;
    });
    expect(Math.abs(loss - mse / end.length) / (mse / end.length)).toBeLessThan(1e-6);
    const grad = await msdGradient(trajectory, target).data();
    const k = trajectory.jacobianScale;
    expect(grad[3]).toBeCloseTo((2 * k * ((end[3] as number) - (tgt[3] as number))) / end.length, 7);
  });

  it('rejects a target of the wrong shape', async () => {
    const scheduler = new DDIMScheduler(sdConfig);
    const refined = randn([1, 4, 4, 4], { seed: 1 });
    const trajectory = await runStoppedTrajectory(scheduler, constantOutput(refined), refined, 2);
    expect(() => msdLoss(refined, trajectory, tensor(new Float32Array(16), [1, 16]))).toThrow(
      /expected shape/,
    );
  });
});
