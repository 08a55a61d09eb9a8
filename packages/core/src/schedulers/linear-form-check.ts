/**
 * A check for schedulers' tests: does linearForm() describe what step() does?
 * Runs a whole loop with random model outputs and, at each step, rebuilds the step's
 * result from its linear form (current sample and output plus the history of earlier
 * step() calls' samples and outputs).
 */
import { InvalidArgumentError } from '../errors';
import { Generator } from '../random/generator';
import { scale } from '../tensor/index';
import type { Scheduler } from './scheduler';

export interface LinearFormCheck {
  /** Largest |form − step| / (1 + |step|) over all steps and elements. */
  maxDeviation: number;
  /** step() calls made (2 per interval for Heun-style schedulers). */
  calls: number;
  /** Whether any step referred back to an earlier call. */
  usedHistory: boolean;
}

export async function checkLinearForm(
  scheduler: Scheduler,
  numInferenceSteps: number,
  { seed = 0, shape = [1, 4, 4, 4] }: { seed?: number; shape?: readonly number[] } = {},
): Promise<LinearFormCheck> {
  const s = scheduler.clone();
  s.setTimesteps(numInferenceSteps);
  const generator = new Generator(seed);
  let x = scale(generator.randn(shape), s.initNoiseSigma);
  const samples: Float32Array[] = [];
  const outputs: Float32Array[] = [];
  let maxDeviation = 0;
  let usedHistory = false;
  for (const t of s.timesteps) {
    const input = s.scaleModelInput(x, t);
    if (input !== x) input.dispose();
    const out = generator.randn(shape);
    const form = s.linearForm(t);
    const xs = await x.data();
    const os = await out.data();
    const { prevSample: next, predOriginalSample } = s.step(out, t, x);
    predOriginalSample.dispose();
    const actual = await next.data();
    const k = samples.length;
    const expected = Float64Array.from(xs, (v, i) => form.sample * v + form.output * (os[i] as number));
    form.history?.forEach((h, j) => {
      const back = k - 1 - j;
      const hs = samples[back];
      const ho = outputs[back];
      if (!hs || !ho) {
        throw new InvalidArgumentError(`step ${k} refers to call ${back}, before the loop started`);
      }
      usedHistory ||= h.sample !== 0 || h.output !== 0;
      expected.forEach((_, i) => {
        expected[i] = (expected[i] as number) + h.sample * (hs[i] as number) + h.output * (ho[i] as number);
      });
    });
    actual.forEach((v, i) => {
      maxDeviation = Math.max(maxDeviation, Math.abs(v - (expected[i] as number)) / (1 + Math.abs(v)));
    });
    samples.push(xs);
    outputs.push(os);
    x.dispose();
    out.dispose();
    x = next;
  }
  x.dispose();
  return { maxDeviation, calls: samples.length, usedHistory };
}
