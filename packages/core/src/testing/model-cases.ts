/**
 * Model conformance: every fixture model loaded through `backend.loadModel` and run through
 * `model.run`, compared with the outputs torch computed; metadata; output life cycle.
 */
import { expect } from 'vitest';
import type { HostTensor, Model, ModelFeeds, ModelSource } from '../backend/model';
import { disposeAll } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import { type ConformanceGroup, type SuiteContext, testCase } from './cases';
import { expectClose, expectShape } from './compare';
import {
  type FixtureTensor,
  type FixtureValueInfo,
  MODEL_FIXTURES,
  type ModelFixture,
  type ModelFixtureName,
  type Tolerance,
  fixtureFeeds,
  fixturePath,
  fixtureValues,
  loadFixture,
  readFixtureModel,
} from './fixtures';

export function scaleTolerance(tolerance: Tolerance, factor: number): Tolerance {
  return { atol: tolerance.atol * factor, rtol: tolerance.rtol * factor };
}

const isTensor = (value: Tensor | HostTensor): value is Tensor => typeof value.data === 'function';

function disposeFeeds(feeds: ModelFeeds): void {
  for (const value of Object.values(feeds)) if (isTensor(value)) value.dispose();
}

/** Loads `source`, hands the model to `use`, and disposes it whatever happens. */
export async function withModel<T>(
  ctx: SuiteContext,
  source: ModelSource,
  use: (model: Model) => Promise<T>,
): Promise<T> {
  const model = await ctx.backend.loadModel(source);
  try {
    return await use(model);
  } finally {
    await model.dispose();
  }
}

/** Checks that `outputs` hold exactly `expected` (names, shapes, values), then disposes them. */
async function expectOutputs(
  ctx: SuiteContext,
  outputs: Record<string, Tensor>,
  expected: Record<string, FixtureTensor>,
  tolerance: Tolerance,
  what: string,
): Promise<void> {
  try {
    expect(Object.keys(outputs).sort(), `${what}: output names`).toEqual(Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) {
      const got = outputs[name] as Tensor;
      expect(got.backend, `${what}: output "${name}" lives on the backend's tensors`).toBe(ctx.tensors);
      expectShape(got.shape, want.shape, `${what}: output "${name}"`);
      expectClose(await got.data(), fixtureValues(want), tolerance, `${what}: output "${name}"`);
    }
  } finally {
    disposeAll(...Object.values(outputs));
  }
}

async function checkFixtureModel(
  ctx: SuiteContext,
  fixture: ModelFixture,
  source: ModelSource,
): Promise<void> {
  await withModel(ctx, source, async (model) => {
    const feeds = fixtureFeeds(fixture, ctx.tensors);
    try {
      const outputs = await model.run(feeds);
      const tolerance = scaleTolerance(fixture.tolerance, ctx.fixtureScale);
      await expectOutputs(ctx, outputs, fixture.outputs, tolerance, fixture.name);
    } finally {
      disposeFeeds(feeds);
    }
  });
}

/**
 * Names and dtypes in graph order; shapes of the same rank with the same fixed sizes. A
 * symbolic dimension may be reported by its name or as unknown (null), never as a number.
 */
function expectValueInfos(
  actual: readonly { name: string; dtype: string; shape: readonly unknown[] }[],
  expected: readonly FixtureValueInfo[],
  what: string,
): void {
  expect(
    actual.map((v) => v.name),
    `${what} names`,
  ).toEqual(expected.map((v) => v.name));
  for (const [i, want] of expected.entries()) {
    const got = actual[i] as (typeof actual)[number];
    expect(got.dtype, `${what} "${want.name}": dtype`).toBe(want.dtype);
    expect(got.shape.length, `${what} "${want.name}": rank of ${JSON.stringify(got.shape)}`).toBe(
      want.shape.length,
    );
    for (const [d, dim] of want.shape.entries()) {
      const gotDim = got.shape[d];
      const where = `${what} "${want.name}": dimension ${d} of ${JSON.stringify(got.shape)}`;
      if (typeof dim === 'number') expect(gotDim, where).toBe(dim);
      else expect(gotDim === null || gotDim === dim, `${where} should be "${dim}" or null`).toBe(true);
    }
  }
}

const modelCase = (name: ModelFixtureName) =>
  testCase(`models/${name}`, async (ctx) => {
    const fixture = await loadFixture(name);
    await checkFixtureModel(ctx, fixture, await readFixtureModel(fixture.model));
  });

const metadataCase = (name: ModelFixtureName) =>
  testCase(`metadata/${name}`, async (ctx) => {
    const fixture = await loadFixture(name);
    await withModel(ctx, await readFixtureModel(fixture.model), async (model) => {
      expectValueInfos(model.inputs, fixture.inputInfo, `${name} inputs`);
      expectValueInfos(model.outputs, fixture.outputInfo, `${name} outputs`);
    });
  });

/** The first `n` entries along axis 0 of a fixture tensor. */
function leading(t: FixtureTensor, n: number): FixtureTensor {
  const per = t.data.length / (t.shape[0] as number);
  return { dtype: t.dtype, shape: [n, ...t.shape.slice(1)], data: t.data.slice(0, n * per) };
}

function usageCases(): ConformanceGroup {
  return {
    title: 'model usage',
    cases: [
      testCase('models/load-from-path', async (ctx) => {
        const fixture = await loadFixture('tiny-unet');
        await checkFixtureModel(ctx, fixture, fixturePath(fixture.model));
      }),
      testCase('models/output-subset', async (ctx) => {
        const fixture = await loadFixture('conv2d');
        await withModel(ctx, await readFixtureModel(fixture.model), async (model) => {
          const feeds = fixtureFeeds(fixture, ctx.tensors);
          try {
            const outputs = await model.run(feeds, { outputs: ['strided'] });
            const expected = { strided: fixture.outputs.strided as FixtureTensor };
            await expectOutputs(ctx, outputs, expected, fixture.tolerance, 'conv2d asked for "strided" only');
          } finally {
            disposeFeeds(feeds);
          }
        });
      }),
      testCase('models/dynamic-batch', async (ctx) => {
        // Samples are independent: batch 1 gives the first sample of the batch-3 expectation.
        const fixture = await loadFixture('tiny-sit');
        const single: ModelFixture = {
          ...fixture,
          inputs: Object.fromEntries(Object.entries(fixture.inputs).map(([k, t]) => [k, leading(t, 1)])),
          outputs: Object.fromEntries(Object.entries(fixture.outputs).map(([k, t]) => [k, leading(t, 1)])),
        };
        await checkFixtureModel(ctx, single, await readFixtureModel(fixture.model));
      }),
      testCase('models/outputs-survive-next-run', async (ctx) => {
        // An adapter must not hand out views of buffers a later run overwrites.
        const fixture = await loadFixture('conv2d');
        const input = fixture.inputs.x as FixtureTensor;
        const doubled: FixtureTensor = { ...input, data: input.data.map((v) => 2 * v) };
        await withModel(ctx, await readFixtureModel(fixture.model), async (model) => {
          const x1 = ctx.tensors.fromData(fixtureValues(input), input.shape);
          const x2 = ctx.tensors.fromData(fixtureValues(doubled), input.shape);
          const first = await model.run({ x: x1 }, { outputs: ['pointwise'] });
          const second = await model.run({ x: x2 }, { outputs: ['pointwise'] });
          try {
            const expected = fixtureValues(fixture.outputs.pointwise as FixtureTensor);
            const tolerance = scaleTolerance(fixture.tolerance, 2 * ctx.fixtureScale);
            expectClose(
              await (first.pointwise as Tensor).data(),
              expected,
              tolerance,
              'the first run, read after a second run',
            );
            // The 1×1 conv has no bias, so doubling the input doubles the output.
            const twice = expected.map((v) => 2 * v);
            expectClose(await (second.pointwise as Tensor).data(), twice, tolerance, 'the second run');
          } finally {
            disposeAll(x1, x2, ...Object.values(first), ...Object.values(second));
          }
        });
      }),
      testCase('models/int64-host-input', async (ctx) => {
        // The same int64 feed given as a plain number array instead of a BigInt64Array.
        const fixture = await loadFixture('tiny-sit');
        const labels = fixture.inputs.y as FixtureTensor;
        const asNumbers: HostTensor = { dtype: 'int64', data: [...labels.data], shape: labels.shape };
        await withModel(ctx, await readFixtureModel(fixture.model), async (model) => {
          const feeds = { ...fixtureFeeds(fixture, ctx.tensors), y: asNumbers };
          try {
            const outputs = await model.run(feeds);
            await expectOutputs(
              ctx,
              outputs,
              fixture.outputs,
              fixture.tolerance,
              'tiny-sit with number[] labels',
            );
          } finally {
            disposeFeeds(feeds);
          }
        });
      }),
    ],
  };
}

/** The model part of the conformance suite. */
export function modelGroups(): ConformanceGroup[] {
  return [
    { title: 'fixture models', cases: MODEL_FIXTURES.map(modelCase) },
    { title: 'model metadata', cases: MODEL_FIXTURES.map(metadataCase) },
    usageCases(),
  ];
}
