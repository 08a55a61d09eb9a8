import { DDIMScheduler, Generator, msdGradient, msdLoss, type Tensor } from '@noiserefine/core';
import { type TfjsBackend, tfjsBackend, TfjsTensor } from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SD_SCHEDULER_CONFIG, tinySiT, tinyUnet } from '../test-support/tiny-models';
import type { TrainingModel } from '../training-model';
import { unguidedEnd } from './unguided-trajectory';

let tfjs: TfjsBackend;
const models: TrainingModel[] = [];

beforeAll(async () => {
  tfjs = await tfjsBackend({ engine: 'wasm' });
  models.push(await tinyUnet(), await tinySiT());
});

afterAll(async () => {
  for (const m of models) await m.dispose();
});

/** ∏ a_t = ∏ √(ᾱ_prev / ᾱ_t) over DDIM's steps (paper Eq. 15), from the scheduler's alphas. */
function ddimProduct(steps: number): number {
  const scheduler = new DDIMScheduler(SD_SCHEDULER_CONFIG);
  scheduler.setTimesteps(steps);
  const stride = 1000 / steps;
  return scheduler.timesteps.reduce(
    (p, t) => p * Math.sqrt(scheduler.alphaAt(t - stride) / scheduler.alphaAt(t)),
    1,
  );
}

describe.each([
  ['DDIM on tiny-unet', 0, ['a red circle', 'a blue square']],
  ['flow Euler on tiny-sit', 1, [3, 7]],
] as const)('the MSD gradient on tfjs, %s', (_name, which, conditions) => {
  it('tf autograd of msdLoss w.r.t. x̂_T is 2·(∏ a_t)·(x̂_0 − x0_guide)/n', async () => {
    const model = models[which] as TrainingModel;
    const batch = conditions.length;
    const shape = [batch, ...model.latentShape];
    const size = shape.reduce((p, d) => p * d, 1);
    const refinedValues = new Generator(11).randnValues(size);
    const targetValues = new Generator(12).randnValues(size);
    const conditioned = await model.conditioned(
      conditions.map((c) => (typeof c === 'number' ? { label: c } : { prompt: c })),
    );
    const end = await unguidedEnd(model, conditioned.spec, refinedValues, batch, 10);
    conditioned.dispose();
    expect(end.jacobianScale).toBeCloseTo(which === 0 ? ddimProduct(10) : 1, 6);

    const refined = tf.variable(tf.tensor(refinedValues, shape), true);
    const wrap = (t: tf.Tensor): Tensor => new TfjsTensor(tfjs.tensors, t);
    const final = tfjs.tensors.fromData(end.values, shape);
    const target = tfjs.tensors.fromData(targetValues, shape);
    const { value, grads } = tf.variableGrads(
      () =>
        (msdLoss(wrap(refined), { final, jacobianScale: end.jacobianScale }, target) as TfjsTensor)
          .tensor as tf.Scalar,
      [refined],
    );
    const autograd = (await grads[refined.name]?.data()) as Float32Array;
    const closedForm = await msdGradient({ final, jacobianScale: end.jacobianScale }, target).data();

    // Both are float32 evaluations of one formula; they differ by the rounding of the surrogate's value.
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < size; i++) {
      worst = Math.max(worst, Math.abs((autograd[i] as number) - (closedForm[i] as number)));
      scale = Math.max(scale, Math.abs(closedForm[i] as number));
    }
    expect(scale).toBeGreaterThan(0);
    expect(worst / scale).toBeLessThan(1e-6);
    // The loss is the latent-space MSE of the trajectory end.
    let mse = 0;
    for (let i = 0; i < size; i++) mse += ((end.values[i] as number) - (targetValues[i] as number)) ** 2;
    expect(Math.abs(((await value.data())[0] as number) - mse / size) / (mse / size)).toBeLessThan(1e-6);
    tf.dispose([refined, value, ...Object.values(grads)]);
    final.dispose();
    target.dispose();
  });
});
