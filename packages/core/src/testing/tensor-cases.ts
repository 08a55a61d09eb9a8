/**
 * TensorBackend conformance: the tensor life cycle (copies, dispose), identity ops, every op
 * against the reference backend, and core's scheduler math running on the backend's tensors.
 */
import { expect } from 'vitest';
import { NoiseRefineError } from '../errors';
import { DDIMScheduler } from '../schedulers/ddim';
import { dummyModel, dummySample, meanAbs, sumAbs } from '../schedulers/test-vectors';
import { disposeAll, toBackend } from '../tensor/ops';
import { sizeOf } from '../tensor/shape';
import type { Shape, TensorBackend } from '../tensor/tensor';
import { type ConformanceGroup, type SuiteContext, testCase } from './cases';
import { EXACT, expectClose, expectShape } from './compare';
import { opGroups } from './op-cases';
import { expectValues, normal } from './op-checks';

const isDisposedTensorError = (error: unknown): boolean =>
  NoiseRefineError.isInstance(error) && error.name === 'DisposedTensorError';

/** Runs `use` (sync or async) and fails unless it throws or rejects with DisposedTensorError. */
async function expectDisposedError(what: string, use: () => unknown): Promise<void> {
  let error: unknown;
  try {
    await use();
  } catch (e) {
    error = e;
  }
  expect(
    isDisposedTensorError(error),
    `${what} should throw DisposedTensorError, got ${error === undefined ? 'no error' : String(error)}`,
  ).toBe(true);
}

function lifecycleCases(): ConformanceGroup {
  return {
    title: 'tensors',
    cases: [
      testCase('tensors/fromData-read', async ({ tensors }) => {
        const shapes: Shape[] = [[], [1], [7], [2, 3], [2, 4, 8, 8]];
        for (const [i, shape] of shapes.entries()) {
          const input = normal(100 + i, shape);
          const x = tensors.fromData(input.data, shape);
          const what = `fromData of shape [${shape.join(', ')}]`;
          expect(x.size, `${what}: size`).toBe(sizeOf(shape));
          expect(x.dtype, `${what}: dtype`).toBe('float32');
          expect(x.isDisposed, `${what}: isDisposed`).toBe(false);
          expect(x.backend, `${what}: backend`).toBe(tensors);
          await expectValues(tensors, x, input, `${what}, read()`);
          expectClose(await x.data(), input.data, EXACT, `${what}, data()`);
          if (tensors.readSync) expectClose(tensors.readSync(x), input.data, EXACT, `${what}, readSync()`);
          x.dispose();
        }
      }),
      testCase('tensors/copy-semantics', async ({ tensors }) => {
        const input = normal(110, [3, 4]);
        const source = input.data.slice();
        const x = tensors.fromData(source, input.shape);
        source.fill(99);
        await expectValues(tensors, x, input, 'a tensor after its source array was overwritten');
        const read = await tensors.read(x);
        read.fill(-99);
        await expectValues(tensors, x, input, 'a tensor after the array read() returned was overwritten');
        x.dispose();
      }),
      testCase('tensors/empty', async ({ tensors }) => {
        const x = tensors.fromData(new Float32Array(0), [0, 3]);
        expect(x.size).toBe(0);
        expectShape(x.shape, [0, 3], 'an empty tensor');
        expect((await tensors.read(x)).length).toBe(0);
        x.dispose();
      }),
      testCase('tensors/fill', async ({ tensors }) => {
        const cases: [Shape, number][] = [
          [[], 3.5],
          [[2, 3], -1.25],
          [[4, 4, 4], 0],
          [[2, 4, 8, 8], 1e-3],
        ];
        for (const [shape, value] of cases) {
          const x = tensors.fill(shape, value);
          const expected = { data: new Float32Array(sizeOf(shape)).fill(value), shape };
          await expectValues(tensors, x, expected, `fill([${shape.join(', ')}], ${value})`);
          x.dispose();
        }
      }),
      testCase('tensors/dispose', async ({ tensors }) => {
        const input = normal(120, [2, 3]);
        const x = tensors.fromData(input.data, input.shape);
        const y = tensors.fromData(input.data, input.shape);
        x.dispose();
        expect(x.isDisposed, 'isDisposed after dispose()').toBe(true);
        expect(y.isDisposed, 'another tensor stays alive').toBe(false);
        await expectDisposedError('read() of a disposed tensor', () => tensors.read(x));
        await expectDisposedError('data() of a disposed tensor', () => x.data());
        await expectDisposedError('unary() on a disposed tensor', () => tensors.unary('neg', x));
        await expectDisposedError('binary() with a disposed operand', () => tensors.binary('add', y, x));
        await expectDisposedError('linearCombination() with a disposed term', () =>
          tensors.linearCombination([
            [1, y],
            [2, x],
          ]),
        );
        await expectDisposedError('reshape() of a disposed tensor', () => tensors.reshape(x, [6]));
        await expectDisposedError('concat() with a disposed tensor', () => tensors.concat([y, x], 0));
        await expectValues(tensors, y, input, 'a live tensor next to a disposed one');
        y.dispose();
      }),
    ],
  };
}

function identityCases(): ConformanceGroup {
  const checkCopy = (op: 'stopGradient' | 'clone') => async (ctx: SuiteContext) => {
    const { tensors } = ctx;
    const input = normal(op === 'clone' ? 1000 : 1001, [3, 4, 5]);
    const x = tensors.fromData(input.data, input.shape);
    const y = tensors[op](x);
    expect(y, `${op} returns a new tensor`).not.toBe(x);
    await expectValues(tensors, y, input, `${op} result`);
    y.dispose();
    await expectValues(tensors, x, input, `the input after disposing the ${op} result`);
    const z = tensors[op](x);
    x.dispose();
    await expectValues(tensors, z, input, `a ${op} result after disposing its input`);
    z.dispose();
  };
  return {
    title: 'identity ops',
    cases: [
      testCase('ops/stopGradient', checkCopy('stopGradient')),
      testCase('ops/clone', checkCopy('clone')),
      testCase('ops/inputs-unchanged', async ({ tensors }) => {
        const a = normal(1010, [2, 3, 4]);
        const b = normal(1011, [2, 3, 4]);
        const x = tensors.fromData(a.data, a.shape);
        const y = tensors.fromData(b.data, b.shape);
        const results = [
          tensors.unary('exp', x),
          tensors.binary('mul', x, y),
          tensors.binary('sub', x, 2),
          tensors.linearCombination(
            [
              [0.5, x],
              [-2, y],
            ],
            1,
          ),
          tensors.clip(x, -0.5, 0.5),
          tensors.reduce('mean', x, [1], true),
          tensors.reshape(x, [6, 4]),
          tensors.transpose(x, [2, 0, 1]),
          tensors.slice(x, [0, 1, 1], [2, 2, 2]),
          tensors.concat([x, y], 1),
          tensors.stopGradient(x),
          tensors.clone(y),
        ];
        await expectValues(tensors, x, a, 'an op input after 12 ops');
        await expectValues(tensors, y, b, 'an op input after 12 ops');
        disposeAll(x, y, ...results);
      }),
    ],
  };
}

/** Core's DDIM on the backend's tensors reproduces diffusers' published scheduler vectors. */
function coreMathCases(): ConformanceGroup {
  const loop = async (tensors: TensorBackend, config: Record<string, unknown>) => {
    const scheduler = DDIMScheduler.fromConfig(config, { onWarning: () => {} });
    scheduler.setTimesteps(10);
    const start = dummySample();
    let x = await toBackend(start, tensors);
    if (x !== start) start.dispose();
    for (const t of scheduler.timesteps) {
      const out = await dummyModel(x, t);
      const { prevSample, predOriginalSample } = scheduler.step(out, t, x);
      disposeAll(out, x, predOriginalSample);
      x = prevSample;
    }
    expect(x.backend, 'the loop stays on the backend under test').toBe(tensors);
    const sums = { sum: await sumAbs(x), mean: await meanAbs(x) };
    x.dispose();
    return sums;
  };
  return {
    title: 'core math on backend tensors',
    cases: [
      testCase('math/ddim-published-vectors', async ({ tensors }) => {
        const plain = await loop(tensors, { clip_sample: true });
        expect(Math.abs(plain.sum - 172.0067), `sum |x| ${plain.sum}, published 172.0067`).toBeLessThan(1e-2);
        expect(Math.abs(plain.mean - 0.223967), `mean |x| ${plain.mean}, published 0.223967`).toBeLessThan(
          1e-3,
        );
        const v = await loop(tensors, { clip_sample: true, prediction_type: 'v_prediction' });
        expect(Math.abs(v.sum - 52.5302), `v-prediction sum |x| ${v.sum}, published 52.5302`).toBeLessThan(
          1e-2,
        );
        expect(Math.abs(v.mean - 0.0684), `v-prediction mean |x| ${v.mean}, published 0.0684`).toBeLessThan(
          1e-3,
        );
      }),
    ],
  };
}

/** The TensorBackend part of the conformance suite. */
export function tensorGroups(): ConformanceGroup[] {
  return [lifecycleCases(), ...opGroups(), identityCases(), coreMathCases()];
}
