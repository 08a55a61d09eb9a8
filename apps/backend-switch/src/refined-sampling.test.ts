import { beforeAll, describe, expect, it } from 'vitest';
import { loadRefinedSampler, zooModel } from './refined-sampling';

const BACKENDS = ['onnxruntime-node', 'onnxruntime-web', 'tfjs'] as const;
type BackendName = (typeof BACKENDS)[number];

interface Latents {
  refined: Float32Array;
  strengthZero: Float32Array;
  unrefined: Float32Array;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
};

// The zoo models may be retrained: nothing here depends on their output values, only on
// backends agreeing with each other and on what refinement must and must not change.
describe.each([
  { model: 'tiny-sit', family: 'sit', condition: { classLabels: [1, 6] } },
  {
    model: 'tiny-sd21',
    family: 'stable-diffusion',
    condition: { prompts: ['a blue ring on a grey background'] },
  },
])(
  'refined unguided generation of $model on three backends, one code path',
  ({ model, family, condition }) => {
    const results = {} as Record<BackendName, Latents>;

    beforeAll(async () => {
      for (const backend of BACKENDS) {
        const sampler = await loadRefinedSampler({
          backend,
          model: zooModel(model),
          seed: 5,
          steps: 20,
          ...condition,
        });
        try {
          expect(sampler.backendName).toBe(backend);
          expect(sampler.family).toBe(family);
          results[backend] = {
            refined: await sampler.sample(),
            strengthZero: await sampler.sample({ refinerStrength: 0 }),
            unrefined: await sampler.sample({ refine: false }),
          };
        } finally {
          await sampler.dispose();
        }
      }
    }, 180_000);

    it.each(['onnxruntime-web', 'tfjs'] as const)(
      'refined (and unrefined) latents on %s equal onnxruntime-node’s (max |Δ| ≤ 1e-4)',
      (backend) => {
        const node = results['onnxruntime-node'];
        expect(node.refined.every(Number.isFinite)).toBe(true);
        expect(maxAbsDiff(results[backend].refined, node.refined)).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(results[backend].unrefined, node.unrefined)).toBeLessThanOrEqual(1e-4);
      },
    );

    it.each(BACKENDS)('refinerStrength 0 reproduces the unrefined latents exactly on %s', (backend) => {
      const { strengthZero, unrefined } = results[backend];
      expect(Array.from(strengthZero)).toEqual(Array.from(unrefined));
    });

    it.each(BACKENDS)('the refiner changes the result on %s', (backend) => {
      const { refined, unrefined } = results[backend];
      // Far above the cross-backend tolerance: the residual is a trained network's output, not noise.
      expect(maxAbsDiff(refined, unrefined)).toBeGreaterThan(1e-2);
    });
  },
);
