/**
 * Sampling-loop conformance: core's schedulers and guidance driving a fixture model on the
 * backend for a whole loop, compared step by step with the same loop run in torch.
 */
import { expect } from 'vitest';
import type { HostTensor } from '../backend/model';
import { classifierFreeGuidance } from '../guidance/classifier-free';
import type { GuidanceContext, PassOutputs } from '../guidance/guidance';
import { splitPasses, stackPasses } from '../guidance/passes';
import { DDIMScheduler } from '../schedulers/ddim';
import { SiTFlowScheduler } from '../schedulers/sit-flow';
import { disposeAll } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import { type ConformanceGroup, testCase } from './cases';
import { expectClose } from './compare';
import {
  type FixtureTensor,
  fixtureValues,
  loadFixture,
  readFixtureModel,
  toHostTensor,
  toTensor,
} from './fixtures';
import { scaleTolerance, withModel } from './model-cases';

/** Compares the latent after step `index` with torch's; naming the step localises a drift. */
async function expectStep(
  x: Tensor,
  trajectory: readonly FixtureTensor[],
  index: number,
  tolerance: { atol: number; rtol: number },
  what: string,
): Promise<void> {
  const expected = trajectory[index] as FixtureTensor;
  expectClose(await x.data(), fixtureValues(expected), tolerance, `${what}: latent after step ${index + 1}`);
}

export function loopGroups(): ConformanceGroup[] {
  return [
    {
      title: 'sampling loops',
      cases: [
        testCase('loops/ddim-cfg', async (ctx) => {
          const fixture = await loadFixture('tiny-unet-ddim-cfg');
          const { tensors } = ctx;
          const tolerance = scaleTolerance(fixture.tolerance, ctx.fixtureScale);
          const scheduler = DDIMScheduler.fromConfig(fixture.scheduler, { onWarning: () => {} });
          scheduler.setTimesteps(fixture.numInferenceSteps);
          expect(scheduler.timesteps, 'DDIM timesteps').toEqual(fixture.timesteps);
          const guidance = classifierFreeGuidance({ guidanceScale: fixture.guidanceScale });

          await withModel(ctx, await readFixtureModel(fixture.model), async (model) => {
            const uncond = toTensor(fixture.uncondEmbeddings, tensors);
            const cond = toTensor(fixture.condEmbeddings, tensors);
            // torch's own noise (core's Generator reproduces it to ~1e-6; the core tests check that).
            let x = toTensor(fixture.initialLatent, tensors);
            try {
              const numSteps = scheduler.timesteps.length;
              for (const [stepIndex, t] of scheduler.timesteps.entries()) {
                const step: GuidanceContext = { timestep: t, stepIndex, numSteps };
                const passes = guidance.passes(step);
                expect(passes, 'CFG batches [uncond, cond]').toEqual(['uncond', 'cond']);
                const scaled = scheduler.scaleModelInput(x, t);
                const sample = stackPasses(passes, scaled);
                if (scaled !== x) scaled.dispose();
                const context = stackPasses(passes, { uncond, cond });
                const timestep: HostTensor = {
                  dtype: 'int64',
                  data: BigInt64Array.from(passes, () => BigInt(t)),
                  shape: [passes.length],
                };
                const outputs = await model.run({ sample, timestep, encoder_hidden_states: context });
                const parts: PassOutputs = splitPasses(outputs.out_sample as Tensor, passes);
                const eps = guidance.combine(parts, step);
                const { prevSample, predOriginalSample } = scheduler.step(eps, t, x);
                disposeAll(
                  sample,
                  context,
                  ...Object.values(outputs),
                  ...Object.values(parts),
                  eps,
                  predOriginalSample,
                  x,
                );
                x = prevSample;
                await expectStep(x, fixture.trajectory, stepIndex, tolerance, `DDIM + CFG at t = ${t}`);
              }
            } finally {
              disposeAll(uncond, cond, x);
            }
          });
        }),
        testCase('loops/flow-euler', async (ctx) => {
          const fixture = await loadFixture('tiny-sit-flow-euler');
          const { tensors } = ctx;
          const tolerance = scaleTolerance(fixture.tolerance, ctx.fixtureScale);
          const labels = toHostTensor(fixture.labels);
          const batch = fixture.initialLatent.shape[0] as number;

          // SiT's convention: t = 0 is noise, t = 1 data; Euler steps x ← x + dt·v.
          const scheduler = new SiTFlowScheduler({ solver: 'euler' });
          scheduler.setTimesteps(fixture.numSteps);
          expect(scheduler.timesteps, 'SiT Euler times').toEqual(
            fixture.timeGrid.slice(0, -1).map((t) => Math.fround(t)),
          );

          await withModel(ctx, await readFixtureModel(fixture.model), async (model) => {
            let x = toTensor(fixture.initialLatent, tensors);
            try {
              for (const [i, t] of scheduler.timesteps.entries()) {
                const time = tensors.fill([batch], t);
                const outputs = await model.run({ x, t: time, y: labels });
                const { prevSample, predOriginalSample } = scheduler.step(outputs.velocity as Tensor, t, x);
                disposeAll(time, ...Object.values(outputs), predOriginalSample, x);
                x = prevSample;
                await expectStep(x, fixture.trajectory, i, tolerance, `flow Euler from t = ${t}`);
              }
            } finally {
              x.dispose();
            }
          });
        }),
      ],
    },
  ];
}
