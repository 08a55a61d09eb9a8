import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@noiserefine/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectEngine } from '../engine/engine-selection';
import { createOptimizer, type OptimizerKind } from './optimizers';
import { getCosineScheduleWithWarmup } from './schedules';
import vectors from './torch-optimizer-vectors.json';
import { valueAndGrads } from './value-and-grads';

interface TorchCase {
  kind: OptimizerKind;
  options: {
    lr: number;
    momentum?: number;
    nesterov?: boolean;
    weight_decay?: number;
    betas?: number[];
    eps?: number;
  };
  schedule: { warmup: number; total: number } | null;
  trajectory: number[][];
}

const describeCase = (c: TorchCase) =>
  `${c.kind} ${JSON.stringify(c.options)}${c.schedule ? ` cosine warmup ${c.schedule.warmup}/${c.schedule.total}` : ''}`;

beforeAll(async () => {
  await selectEngine({ engine: 'wasm' });
});

describe('optimizers follow torch.optim step for step', () => {
  it.each((vectors.cases as TorchCase[]).map((c) => [describeCase(c), c] as const))('%s', (_name, c) => {
    const p = tf.variable(tf.tensor(vectors.p0), true);
    const a = tf.tensor(vectors.a);
    const b = tf.tensor(vectors.b);
    const { lr, momentum, nesterov, weight_decay: weightDecay, betas, eps } = c.options;
    const optimizer = createOptimizer(c.kind, {
      lr,
      ...(momentum === undefined ? {} : { momentum }),
      ...(nesterov === undefined ? {} : { nesterov }),
      ...(weightDecay === undefined ? {} : { weightDecay }),
      ...(betas ? { betas: [betas[0] as number, betas[1] as number] as const } : {}),
      ...(eps === undefined ? {} : { eps }),
      ...(c.schedule
        ? {
            schedule: getCosineScheduleWithWarmup({
              numWarmupSteps: c.schedule.warmup,
              numTrainingSteps: c.schedule.total,
            }),
          }
        : {}),
    });
    for (const expected of c.trajectory) {
      const { value, grads } = valueAndGrads(
        () => tf.add(tf.mul(tf.sum(tf.mul(a, tf.square(p))), 0.5), tf.sum(tf.mul(b, p))),
        [p],
      );
      optimizer.step(grads);
      tf.dispose([value, ...grads.values()]);
      const got = Array.from(p.dataSync());
      expected.forEach((want, i) => {
        expect(got[i]).toBeCloseTo(want, 5);
      });
    }
    expect(optimizer.stepCount).toBe(c.trajectory.length);
    optimizer.dispose();
    tf.dispose([p, a, b]);
  });
});

describe('optimizer options', () => {
  it('validates hyperparameters with typed errors', () => {
    expect(() => createOptimizer('adam', { lr: -1 })).toThrow(InvalidArgumentError);
    expect(() => createOptimizer('adam', { lr: 1e-3, betas: [0.9, 1] })).toThrow(
      /betas: expected values in \[0, 1\)/,
    );
    expect(() => createOptimizer('sgd', { lr: 0.1, nesterov: true })).toThrow(/momentum > 0/);
  });

  it('AdamW decays by default (0.01), Adam does not', () => {
    expect(createOptimizer('adamw', { lr: 1e-3 }).weightDecay).toBe(0.01);
    expect(createOptimizer('adam', { lr: 1e-3 }).weightDecay).toBe(0);
  });

  it('reports the learning rate of the next step from the schedule', () => {
    const optimizer = createOptimizer('sgd', {
      lr: 0.2,
      schedule: getCosineScheduleWithWarmup({ numWarmupSteps: 2, numTrainingSteps: 4 }),
    });
    expect(optimizer.currentLearningRate).toBe(0);
    const p = tf.variable(tf.ones([2]), true);
    const g = tf.ones([2]);
    optimizer.step(new Map([[p, g]]));
    expect(optimizer.currentLearningRate).toBeCloseTo(0.1, 10);
    tf.dispose([p, g]);
  });

  it('rejects a gradient whose shape differs from its variable', () => {
    const optimizer = createOptimizer('sgd', { lr: 0.1 });
    const p = tf.variable(tf.ones([2]), true);
    const g = tf.ones([3]);
    expect(() => optimizer.step(new Map([[p, g]]))).toThrow(/has shape \[3\], the variable \[2\]/);
    tf.dispose([p, g]);
  });
});
