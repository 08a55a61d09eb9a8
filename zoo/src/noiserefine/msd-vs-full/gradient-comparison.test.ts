import {
  add,
  type DenoiserSpec,
  Generator,
  msdGradient,
  SiTFlowScheduler,
  type Tensor,
  tensor,
} from '@noiserefine/core';
import { encodeModel, GraphBuilder } from '@noiserefine/onnx';
import { type TfjsBackend, type TfjsModel, tfjsBackend, valueAndGrads } from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareGradients,
  compareInputGradients,
  compareParameterGradients,
  type DifferentiableRefiner,
  stoppedEnd,
  type TrajectorySetup,
} from './gradient-comparison';
import { optimiseNoise } from './noise-optimisation';
import { tfjsDenoise } from './tfjs-denoiser';
import { meanSquaredError, runTrajectory } from './trajectories';

const SHAPE = [2, 4, 8, 8];
const N = 10;

/** v(x, t, y) = a ⊙ x + 0.1: a linear velocity, a per channel (SiT's inputs and output names). */
function linearVelocityModel(perChannel: readonly number[]): Uint8Array {
  const g = new GraphBuilder({ name: 'linear-velocity' });
  const x = g.input('x', 'float32', ['batch', 4, 8, 8]);
  g.input('t', 'float32', ['batch']);
  g.input('y', 'int64', ['batch']);
  const a = g.constant(Float32Array.from(perChannel), [1, 4, 1, 1]);
  g.output(g.add(g.mul(x, a), 0.1), 'velocity');
  return encodeModel(g.toModel());
}

/** g(x) = w ⊙ x + b with trainable w [1, 4, 8, 8] and b [1, 4, 1, 1]: a refiner small enough to reason about. */
function linearRefinerModel(): Uint8Array {
  const g = new GraphBuilder({ name: 'linear-refiner', seed: 5 });
  const x = g.input('x', 'float32', ['batch', 4, 8, 8]);
  const w = g.parameter('w', [1, 4, 8, 8], { normal: 0.3 });
  const b = g.parameter('b', [1, 4, 1, 1], { normal: 0.3 });
  g.output(g.add(g.mul(x, w), b), 'residual');
  return encodeModel(g.toModel());
}

describe('MSD vs full back-propagation on linear denoisers', () => {
  let tfjs: TfjsBackend;
  const models: TfjsModel[] = [];
  const owned: Tensor[] = [];

  async function setupFor(perChannel: readonly number[]): Promise<TrajectorySetup> {
    const model = await tfjs.loadModel(linearVelocityModel(perChannel));
    models.push(model);
    const spec: DenoiserSpec = {
      model,
      sampleInput: 'x',
      timestepInput: 't',
      output: 'velocity',
      conditioning: () => ({
        y: { dtype: 'int64', data: new BigInt64Array(SHAPE[0] as number), shape: [SHAPE[0] as number] },
      }),
    };
    const { denoise } = await tfjsDenoise(model, spec, tfjs, SHAPE[0] as number);
    const target = tensor(new Generator(2).randnValues(2 * 256), SHAPE, tfjs.tensors);
    owned.push(target);
    return { tfjs, scheduler: new SiTFlowScheduler(), denoise, numInferenceSteps: N, target };
  }

  function noise(seed: number): Tensor {
    const t = tensor(new Generator(seed).randnValues(2 * 256), SHAPE, tfjs.tensors);
    owned.push(t);
    return t;
  }

  beforeAll(async () => {
    tfjs = await tfjsBackend();
  });

  afterAll(async () => {
    for (const t of owned) t.dispose();
    for (const m of models) await m.dispose();
  });

  it('finds the gradients proportional (cosine 1) when the denoiser Jacobian is a scalar times I, with k = ∏(1 + a·dt)', async () => {
    // Euler: x_{k+1} = (1 + a·dt)·x_k + 0.1·dt, so d x̂_0/d x̂_T = (1 + a/N)^N · I while MSD takes I.
    const a = -0.7;
    const setup = await setupFor([a, a, a, a]);
    const k = (1 + a / N) ** N;
    const input = await compareInputGradients(setup, noise(1));
    expect(input.cosine).toBeCloseTo(1, 5);
    expect(input.projection).toBeCloseTo(k, 4);

    const refinerModel = await tfjs.loadModel(linearRefinerModel(), { trainable: true });
    models.push(refinerModel);
    const refiner: DifferentiableRefiner = {
      refine: (x) => add(x, refinerModel.forward({ x }).residual as Tensor),
      variables: refinerModel.variables,
    };
    const params = await compareParameterGradients(setup, refiner, noise(3));
    expect(params.cosine).toBeCloseTo(1, 5);
    expect(params.projection).toBeCloseTo(k, 4);
    expect(params.loss).toBeGreaterThan(0);
  });

  it('finds them not proportional when the Jacobian is diagonal but not a multiple of I', async () => {
    const setup = await setupFor([-2, -0.5, 0.5, 2]);
    const input = await compareInputGradients(setup, noise(4));
    // Per-channel factors (1 + a/N)^N from 0.11 to 6.2 weight the channels unequally.
    expect(input.cosine).toBeLessThan(0.99);
    expect(input.cosine).toBeGreaterThan(0);
  });

  it("gives MSD's closed form when the tape runs through the stopped trajectory", async () => {
    const setup = await setupFor([0.3, 0.3, 0.3, 0.3]);
    const start = noise(6);
    const x = tf.variable((start as unknown as { tensor: tf.Tensor }).tensor.clone(), true);
    const { value, grads } = valueAndGrads(() => {
      const end = runTrajectory(setup.scheduler, setup.denoise, tfjs.tensors.wrap(x), N, {
        stopDenoiser: true,
      });
      return meanSquaredError(end.final, setup.target);
    }, [x]);
    const taped = (await (grads.get(x) as tf.Tensor).data()) as Float32Array;
    const end = stoppedEnd(setup, start);
    const closed = await msdGradient(end, setup.target).data();
    expect(end.jacobianScale).toBe(1);
    expect(compareGradients([taped], [closed], 0).cosine).toBeCloseTo(1, 6);
    expect(compareGradients([taped], [closed], 0).projection).toBeCloseTo(1, 5);
    value.dispose();
    for (const g of grads.values()) g.dispose();
    x.dispose();
    end.final.dispose();
  });

  it('lowers the loss with either gradient when optimising one noise (Fig. 6 set-up)', async () => {
    const setup = await setupFor([-0.2, -0.2, -0.2, -0.2]);
    for (const mode of ['msd', 'full'] as const) {
      const curve = await optimiseNoise(setup, noise(8), { mode, steps: 5, learningRate: 0.1 });
      expect(curve.loss).toHaveLength(6);
      expect(curve.gradNorm).toHaveLength(5);
      expect(curve.loss[5]).toBeLessThan(curve.loss[0] as number);
      expect(curve.finalDrift).toBeGreaterThan(0);
    }
  });

  it('rejects gradients of different sizes', () => {
    expect(() => compareGradients([new Float32Array(3)], [new Float32Array(4)], 0)).toThrow(/same sizes/);
  });
});
