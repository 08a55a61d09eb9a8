import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Backend } from '../backend/model';
import { InvalidArgumentError, UnsupportedCapabilityError } from '../errors';
import { ReferenceBackend } from '../tensor/reference-backend';
import type { TensorBackend } from '../tensor/tensor';
import type { ConformanceGroup, SuiteContext } from './cases';
import type { Tolerance } from './fixtures';
import { loopGroups } from './loop-cases';
import { modelGroups } from './model-cases';
import { tensorGroups } from './tensor-cases';

/** Default tolerance of op results against the reference backend. */
export const DEFAULT_OPS_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-5 };

/** Test id → why it is skipped. An id ending in `/*` skips every test under that prefix. */
export type SkipList = Readonly<Record<string, string>>;

export interface ConformanceTolerance {
  /** Op results against the reference backend; default atol 1e-5, rtol 1e-5. */
  ops?: Partial<Tolerance>;
  /** Multiplies each fixture's recorded tolerance (default 1), for backends with looser float math. */
  fixtureScale?: number;
}

interface SuiteOptionsBase {
  /** Title of the top-level describe block, e.g. the adapter's name. */
  name: string;
  skip?: SkipList;
  /** Per-test timeout in milliseconds (default 60 000). */
  timeoutMs?: number;
}

export interface TensorSuiteOptions extends SuiteOptionsBase {
  createBackend: () => Promise<TensorBackend> | TensorBackend;
  tolerance?: Pick<ConformanceTolerance, 'ops'>;
}

export interface ConformanceOptions extends SuiteOptionsBase {
  createBackend: () => Promise<Backend> | Backend;
  tolerance?: ConformanceTolerance;
}

function allGroups(): ConformanceGroup[] {
  return [...tensorGroups(), ...modelGroups(), ...loopGroups()];
}

const idsOf = (groups: readonly ConformanceGroup[]): string[] =>
  groups.flatMap((g) => g.cases.map((c) => c.id));

/** The ids of the conformance tests, in registration order: what `skip` keys name. */
export function conformanceTestIds(part: 'all' | 'tensors' = 'all'): string[] {
  return idsOf(part === 'all' ? allGroups() : tensorGroups());
}

/**
 * Maps each skipped test id to its reason. Every key must name a test (or, ending in `/*`, a
 * prefix of at least one) and every reason must be non-empty, so a typo cannot hide a test.
 */
export function resolveSkips(ids: readonly string[], skip: SkipList = {}): Map<string, string> {
  const skipped = new Map<string, string>();
  for (const [key, reason] of Object.entries(skip)) {
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new InvalidArgumentError(
        `skip["${key}"]: expected a reason (non-empty string), got ${JSON.stringify(reason)}`,
      );
    }
    const matched = key.endsWith('/*')
      ? ids.filter((id) => id.startsWith(key.slice(0, -1)))
      : ids.filter((id) => id === key);
    if (matched.length === 0) {
      throw new InvalidArgumentError(
        `skip: "${key}" names no conformance test; expected an id such as ${ids.slice(0, 3).join(', ')} (see conformanceTestIds())`,
      );
    }
    for (const id of matched) if (!skipped.has(id) || !key.endsWith('/*')) skipped.set(id, reason);
  }
  return skipped;
}

interface Registration {
  name: string;
  groups: ConformanceGroup[];
  skip: SkipList | undefined;
  timeoutMs: number;
  setup: () => Promise<{ ctx: SuiteContext; teardown: () => Promise<void> }>;
}

function register({ name, groups, skip, timeoutMs, setup }: Registration): void {
  const skipped = resolveSkips(idsOf(groups), skip);
  describe(name, () => {
    let state: Awaited<ReturnType<typeof setup>> | undefined;
    beforeAll(async () => {
      state = await setup();
    }, timeoutMs);
    afterAll(async () => {
      await state?.teardown();
    }, timeoutMs);
    for (const group of groups) {
      describe(group.title, () => {
        for (const c of group.cases) {
          const reason = skipped.get(c.id);
          if (reason !== undefined) {
            it.skip(`${c.id} (skipped: ${reason})`, () => {});
            continue;
          }
          it(
            c.id,
            async () => {
              if (!state) throw new UnsupportedCapabilityError(`${name}: the backend was not created`);
              await c.run(state.ctx);
            },
            timeoutMs,
          );
        }
      });
    }
  });
}

function opsTolerance(tolerance: ConformanceTolerance | undefined): Tolerance {
  return { ...DEFAULT_OPS_TOLERANCE, ...tolerance?.ops };
}

/**
 * Registers the TensorBackend part of the conformance suite (vitest describe/it blocks): every
 * op against the reference backend on seeded random data, and the tensor life cycle.
 */
export function runTensorBackendSuite(options: TensorSuiteOptions): void {
  register({
    name: options.name,
    groups: tensorGroups(),
    skip: options.skip,
    timeoutMs: options.timeoutMs ?? 60_000,
    setup: async () => {
      const tensors = await options.createBackend();
      const ctx: SuiteContext = {
        tensors,
        get backend(): Backend {
          throw new UnsupportedCapabilityError('the tensor-only conformance suite has no model backend');
        },
        reference: new ReferenceBackend(),
        opsTolerance: opsTolerance(options.tolerance),
        fixtureScale: 1,
      };
      return { ctx, teardown: async () => {} };
    },
  });
}

/**
 * Registers the full conformance suite for an adapter: the TensorBackend ops, every fixture
 * model against torch's outputs (plus metadata and output life cycle), and two sampling loops
 * (DDIM with CFG on tiny-unet, flow Euler on tiny-sit) against torch's trajectories.
 * The backend is created once for the suite and disposed after it.
 */
export function runConformanceSuite(options: ConformanceOptions): void {
  const fixtureScale = options.tolerance?.fixtureScale ?? 1;
  if (!(fixtureScale > 0)) {
    throw new InvalidArgumentError(`tolerance.fixtureScale: expected a positive number, got ${fixtureScale}`);
  }
  register({
    name: options.name,
    groups: allGroups(),
    skip: options.skip,
    timeoutMs: options.timeoutMs ?? 60_000,
    setup: async () => {
      const backend = await options.createBackend();
      const ctx: SuiteContext = {
        tensors: backend.tensors,
        backend,
        reference: new ReferenceBackend(),
        opsTolerance: opsTolerance(options.tolerance),
        fixtureScale,
      };
      return { ctx, teardown: async () => backend.dispose?.() };
    },
  });
}
