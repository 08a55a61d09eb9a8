import { join } from 'node:path';
import {
  type BackendSpec,
  type CommonGenerateOptions,
  DiffusionPipeline,
  NoiseRefiner,
  type RefinerFamily,
  SiTPipeline,
  resolveBackend,
} from '@noiserefine/core';
import { ZOO_MODELS_DIR, ZOO_PROMPTS } from '@noiserefine/examples-shared';

export interface RefinedSamplingConfig {
  /** The only thing that changes between runs: an adapter name or object. */
  backend: BackendSpec;
  /** A pipeline folder with a `refiner/` subfolder; default the zoo's tiny-sit. */
  model?: string;
  /** Class labels, for class-conditional (SiT) folders. */
  classLabels?: readonly number[];
  /** Prompts, for text-to-image folders. */
  prompts?: readonly string[];
  seed?: number;
  steps?: number;
}

export interface SampleOptions {
  /** false samples from the Gaussian noise itself; default true. */
  refine?: boolean;
  /** Residual scale of the refiner (default 1, as trained). */
  refinerStrength?: number;
}

/** A pipeline and its refiner loaded on one backend, sampling unguided latents. */
export interface RefinedSampler {
  readonly backendName: string;
  /** The family the refiner was trained for (and checked against the pipeline). */
  readonly family: RefinerFamily;
  /** The final latents [B, C, H, W], flattened; the same layout on every backend. */
  sample(options?: SampleOptions): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export const DEFAULT_CLASS_LABELS: readonly number[] = [0, 3, 4, 7];
export const DEFAULT_PROMPTS: readonly string[] = ZOO_PROMPTS.slice(0, 2);

/** A zoo model folder by name, e.g. "tiny-sd21". */
export const zooModel = (name: string): string => join(ZOO_MODELS_DIR, name);

/**
 * Loads any pipeline folder and its refiner on the named backend. Sampling is NoiseRefine's:
 * the seeded noise is refined once, then sampled without guidance (one denoiser pass a step).
 */
export async function loadRefinedSampler(config: RefinedSamplingConfig): Promise<RefinedSampler> {
  const model = config.model ?? zooModel('tiny-sit');
  const backend = await resolveBackend(config.backend);
  const pipe = await DiffusionPipeline.fromPretrained(model, { backend });
  const refiner = await NoiseRefiner.fromPretrained(join(model, 'refiner'), { backend });
  return {
    backendName: backend.name,
    family: refiner.metadata.family,
    async sample({ refine = true, refinerStrength }: SampleOptions = {}) {
      const options: CommonGenerateOptions = {
        seed: config.seed ?? 0,
        numInferenceSteps: config.steps ?? 20,
        guidanceScale: 1,
        outputType: 'latent',
        ...(refine ? { refiner, refinerStrength } : {}),
      };
      // Every family takes the same options; only the condition differs (labels or prompts).
      const { latents } =
        pipe instanceof SiTPipeline
          ? await pipe.generate({ ...options, classLabel: config.classLabels ?? DEFAULT_CLASS_LABELS })
          : await pipe.generate({ ...options, prompt: config.prompts ?? DEFAULT_PROMPTS });
      const values = await latents.data();
      latents.dispose();
      return values;
    },
    async dispose() {
      await Promise.all([pipe.dispose(), refiner.dispose()]);
      // A backend resolved from a name is ours; an adapter object stays the caller's.
      if (typeof config.backend === 'string') await backend.dispose?.();
    },
  };
}
