import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors';
import { ReferenceBackend, ReferenceTensor } from '../tensor/reference-backend';
import type { BinaryOp, Tensor } from '../tensor/tensor';
import type { SuiteContext } from './cases';
import {
  DEFAULT_OPS_TOLERANCE,
  conformanceTestIds,
  resolveSkips,
  runTensorBackendSuite,
} from './conformance';
import { MODEL_FIXTURES } from './fixtures';
import { tensorGroups } from './tensor-cases';

// The suite's tensor part, run against a second reference backend: the oracle must agree
// with itself, and every case must run to completion on a conforming backend.
runTensorBackendSuite({
  name: 'conformance self-test: ReferenceBackend',
  createBackend: () => new ReferenceBackend(),
});

describe('conformance test ids', () => {
  it('are unique and cover every op family, fixture model and loop', () => {
    const ids = conformanceTestIds();
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ['ops/unary/sigmoid', 'ops/binary/broadcast', 'ops/reduce/mean', 'tensors/dispose']) {
      expect(ids).toContain(id);
    }
    for (const name of MODEL_FIXTURES) {
      expect(ids).toContain(`models/${name}`);
      expect(ids).toContain(`metadata/${name}`);
    }
    expect(ids).toContain('loops/ddim-cfg');
    expect(ids).toContain('loops/flow-euler');
  });

  it('of the tensor part are a subset without model or loop tests', () => {
    const tensorIds = conformanceTestIds('tensors');
    expect(tensorIds.every((id) => conformanceTestIds().includes(id))).toBe(true);
    expect(tensorIds.some((id) => id.startsWith('models/') || id.startsWith('loops/'))).toBe(false);
  });
});

describe('resolveSkips', () => {
  const ids = ['ops/unary/neg', 'ops/unary/abs', 'models/tiny-unet', 'models/tiny-unet-fp16'];

  it('maps exact ids and prefix wildcards to their reasons, exact ids winning', () => {
    const skipped = resolveSkips(ids, {
      'ops/unary/*': 'no unary kernels',
      'ops/unary/abs': 'abs is fused elsewhere',
      'models/tiny-unet-fp16': 'no float16 on this device',
    });
    expect([...skipped]).toEqual([
      ['ops/unary/neg', 'no unary kernels'],
      ['ops/unary/abs', 'abs is fused elsewhere'],
      ['models/tiny-unet-fp16', 'no float16 on this device'],
    ]);
    expect(skipped.has('models/tiny-unet')).toBe(false);
  });

  it('rejects a key that names no test, and an empty reason', () => {
    expect(() => resolveSkips(ids, { 'models/tiny-unt': 'typo' })).toThrow(InvalidArgumentError);
    expect(() => resolveSkips(ids, { 'models/tiny-unt': 'typo' })).toThrow(/names no conformance test/);
    expect(() => resolveSkips(ids, { 'loops/*': 'no loops' })).toThrow(/names no conformance test/);
    expect(() => resolveSkips(ids, { 'ops/unary/neg': ' ' })).toThrow(/expected a reason/);
  });
});

/** Runs one tensor case against `tensors`, outside the registered suite. */
async function runCase(id: string, tensors: ReferenceBackend): Promise<void> {
  const found = tensorGroups()
    .flatMap((g) => g.cases)
    .find((c) => c.id === id);
  if (!found) throw new Error(`no case ${id}`);
  const ctx = {
    tensors,
    reference: new ReferenceBackend(),
    opsTolerance: DEFAULT_OPS_TOLERANCE,
    fixtureScale: 1,
  } as unknown as SuiteContext;
  await found.run(ctx);
}

describe('the suite catches broken backends', () => {
  it('flags broadcasting that swaps operands', async () => {
    class SwappedBroadcast extends ReferenceBackend {
      override binary(op: BinaryOp, a: Tensor, b: Tensor | number): Tensor {
        const broadcasting = typeof b !== 'number' && b.size < a.size;
        return broadcasting ? super.binary(op, b, a) : super.binary(op, a, b);
      }
    }
    await expect(runCase('ops/binary/broadcast', new SwappedBroadcast())).rejects.toThrow(
      /sub of \[2, 3, 4\] and \[4\]/,
    );
    await expect(runCase('ops/binary/broadcast', new ReferenceBackend())).resolves.toBeUndefined();
  });

  it('flags a tensor that stays readable after dispose()', async () => {
    class KeptAlive extends ReferenceTensor {
      override dispose(): void {}
    }
    class LeakyDispose extends ReferenceBackend {
      override fromData(data: Float32Array, shape: readonly number[]): Tensor {
        return new KeptAlive(this, Float32Array.from(data), [...shape]);
      }
    }
    await expect(runCase('tensors/dispose', new LeakyDispose())).rejects.toThrow(/isDisposed after dispose/);
  });

  it('flags a transpose that ignores its permutation', async () => {
    class NoTranspose extends ReferenceBackend {
      override transpose(x: Tensor, perm: readonly number[]): Tensor {
        return this.reshape(
          x,
          perm.map((p) => x.shape[p] as number),
        );
      }
    }
    await expect(runCase('ops/transpose', new NoTranspose())).rejects.toThrow(/transpose \[3,5\] by \[1,0\]/);
  });
});
