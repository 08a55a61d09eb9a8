import type { Backend } from '../backend/model';
import type { ReferenceBackend } from '../tensor/reference-backend';
import type { TensorBackend } from '../tensor/tensor';
import type { Tolerance } from './fixtures';

/** What every conformance test gets: the backend under test and the oracle. */
export interface SuiteContext {
  /** The tensors of the backend under test. */
  readonly tensors: TensorBackend;
  /** The adapter under test; model and loop tests need it (the tensor-only suite has none). */
  readonly backend: Backend;
  /** The oracle: a private ReferenceBackend instance. */
  readonly reference: ReferenceBackend;
  readonly opsTolerance: Tolerance;
  /** Multiplies each fixture's recorded tolerance. */
  readonly fixtureScale: number;
}

/** One test: a stable id (used in skip lists and titles) and its body. */
export interface ConformanceCase {
  readonly id: string;
  run(ctx: SuiteContext): Promise<void> | void;
}

export interface ConformanceGroup {
  readonly title: string;
  readonly cases: readonly ConformanceCase[];
}

/** Shorthand for building case lists. */
export function testCase(id: string, run: ConformanceCase['run']): ConformanceCase {
  return { id, run };
}
