import { afterEach, describe, expect, it, vi } from 'vitest';
import { randn } from '../random/index';
import { type Tensor, referenceBackend } from '../tensor/index';
import {
  type Guidance,
  type PassOutputs,
  classifierFreeGuidance,
  guidanceInterval,
  noGuidance,
  perturbedAttentionGuidance,
} from './index';

const CREATORS = [
  'fromData',
  'fill',
  'unary',
  'binary',
  'linearCombination',
  'clip',
  'reduce',
  'reshape',
  'transpose',
  'slice',
  'concat',
  'clone',
] as const;

/** Records every tensor the reference backend creates while `fn` runs. */
function created(fn: () => Tensor): { result: Tensor; tensors: Set<Tensor> } {
  const tensors = new Set<Tensor>();
  for (const method of CREATORS) {
    const original = referenceBackend[method].bind(referenceBackend) as (...args: unknown[]) => Tensor;
    vi.spyOn(referenceBackend, method).mockImplementation(((...args: unknown[]) => {
      const t = original(...args);
      tensors.add(t);
      return t;
    }) as never);
  }
  const result = fn();
  vi.restoreAllMocks();
  return { result, tensors };
}

const ctx = { timestep: 990, stepIndex: 0, numSteps: 10 };
const outputs = (): PassOutputs => ({
  uncond: randn([2, 4, 3, 3], { seed: 1 }),
  cond: randn([2, 4, 3, 3], { seed: 2 }),
  perturbed: randn([2, 4, 3, 3], { seed: 3 }),
});

const CASES: [string, Guidance][] = [
  ['noGuidance', noGuidance()],
  ['CFG', classifierFreeGuidance({ guidanceScale: 5 })],
  ['CFG + rescale', classifierFreeGuidance({ guidanceScale: 5, guidanceRescale: 0.7 })],
  [
    'CFG on 3 channels + rescale',
    classifierFreeGuidance({ guidanceScale: 5, channels: 3, guidanceRescale: 0.5 }),
  ],
  ['PAG', perturbedAttentionGuidance({ pagScale: 3 })],
  [
    'PAG + CFG + rescale',
    perturbedAttentionGuidance({ pagScale: 3, guidanceScale: 5, guidanceRescale: 0.7 }),
  ],
  [
    'interval (outside)',
    guidanceInterval(classifierFreeGuidance({ guidanceScale: 5 }), { start: 0, end: 500 }),
  ],
];

describe('guidance combine: ownership', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(CASES)('%s disposes every intermediate and none of its inputs', (_name, guidance) => {
    const inputs = outputs();
    const { result, tensors } = created(() => guidance.combine(inputs, ctx));
    expect(tensors.has(result)).toBe(true);
    const alive = [...tensors].filter((t) => t !== result && !t.isDisposed);
    expect(alive.map((t) => t.shape)).toEqual([]);
    expect(Object.values(inputs).some((t) => t.isDisposed)).toBe(false);
    expect(result.shape).toEqual([2, 4, 3, 3]);
  });
});
