import type { Backend, Model } from '../backend/model';
import { InvalidArgumentError, ModelSignatureError, ShapeMismatchError } from '../errors';
import { ModelFolder } from '../pipelines/model-folder';
import { type DenoiserSpec, runPasses } from '../pipelines/pass-runner';
import { loadComponent } from '../pipelines/pipeline-common';
import { type Tensor, disposeAll, linearCombination, shapesEqual } from '../tensor/index';

/** The pipeline families a refiner can be trained for. */
export type RefinerFamily = 'sit' | 'stable-diffusion' | 'stable-diffusion-xl';

/** What a refiner file says about itself (`config.json` beside `model.onnx`, mirrored in ONNX metadata). */
export interface RefinerMetadata {
  family: RefinerFamily;
  /** The base model it was trained for (folder or hub name), e.g. "tiny-sit". */
  baseModel: string;
  /** 'lora': the denoiser with LoRA merged; 'standalone': a separate small network with the denoiser's I/O. */
  kind: 'lora' | 'standalone';
  /** The timestep the refiner network is called at: the noise end (999 for SD, 0 for SiT). */
  timestep: number;
  /** Latent shape [C, H, W] it was trained on. */
  latentShape: readonly number[];
  /** Whether the model takes a `guidance_scale` input (paper App. A.4). */
  guidanceConditioned?: boolean;
  /** Free-form training record (target guidance, steps, loss). */
  training?: Record<string, unknown>;
}

export interface RefineOptions {
  /** Scale of the residual: x̂_T = x_T + strength·g(x_T, c). 0 returns x_T; 1 is as trained (paper Fig. 13). */
  strength?: number;
  /** For guidance-conditioned refiners: the guidance scale to emulate. */
  guidanceScale?: number;
}

/**
 * A noise refiner: g maps Gaussian noise x_T and the condition c to a residual; unguided
 * sampling from x̂_T = x_T + g(x_T, c) then matches guided sampling from x_T. It is called
 * with the family's denoiser conditioning (the 'cond' pass), so the same code serves every family.
 */
export class NoiseRefiner {
  constructor(
    readonly model: Model,
    readonly metadata: RefinerMetadata,
  ) {}

  static async fromPretrained(dir: string, options: { backend: Backend }): Promise<NoiseRefiner> {
    const folder = new ModelFolder(dir);
    const raw = await folder.readJson('config.json');
    const metadata = parseRefinerMetadata(raw, folder.resolve('config.json'));
    return new NoiseRefiner(await loadComponent(options.backend, folder, ''), metadata);
  }

  /** Checks this refiner was trained for the given family and latent shape [B, C, H, W]. */
  assertCompatible(family: RefinerFamily, latentShape: readonly number[]): void {
    if (family !== this.metadata.family) {
      throw new ModelSignatureError(
        `refiner trained for family "${this.metadata.family}" (base model ${this.metadata.baseModel}) cannot refine noise for a "${family}" pipeline`,
      );
    }
    if (!shapesEqual(latentShape.slice(1), this.metadata.latentShape)) {
      throw new ShapeMismatchError(
        `refiner for ${this.metadata.baseModel}: latent shape`,
        ['B', ...this.metadata.latentShape],
        latentShape,
      );
    }
  }

  /** g(x_T, c): the residual, computed by running the refiner network with the denoiser's cond feeds. */
  async residual(noise: Tensor, denoiser: DenoiserSpec, options: RefineOptions = {}): Promise<Tensor> {
    const spec: DenoiserSpec = { ...denoiser, model: this.model, timestepValue: undefined };
    if (this.metadata.guidanceConditioned) {
      const scale = options.guidanceScale;
      if (scale === undefined) {
        throw new InvalidArgumentError('this refiner is guidance-conditioned: pass refinerGuidanceScale');
      }
      const batch = noise.shape[0] as number;
      const cond = denoiser.conditioning;
      spec.conditioning = (pass) => ({
        ...cond(pass),
        guidance_scale: { dtype: 'float32', data: new Float32Array(batch).fill(scale), shape: [batch] },
      });
    }
    const { cond } = await runPasses(spec, noise, this.metadata.timestep, ['cond']);
    if (!shapesEqual(cond.shape, noise.shape)) {
      throw new ShapeMismatchError('refiner output', noise.shape, cond.shape);
    }
    return cond;
  }

  /** x̂_T = x_T + strength·g(x_T, c). Strength 0 returns a copy of x_T without running the network. */
  async refine(noise: Tensor, denoiser: DenoiserSpec, options: RefineOptions = {}): Promise<Tensor> {
    const strength = options.strength ?? 1;
    if (!Number.isFinite(strength))
      throw new InvalidArgumentError(`strength must be finite, got ${strength}`);
    if (strength === 0) return linearCombination([[1, noise]]);
    const g = await this.residual(noise, denoiser, options);
    const out = linearCombination([
      [1, noise],
      [strength, g],
    ]);
    disposeAll(g);
    return out;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

const FAMILIES: readonly RefinerFamily[] = ['sit', 'stable-diffusion', 'stable-diffusion-xl'];

export function parseRefinerMetadata(raw: Record<string, unknown>, file: string): RefinerMetadata {
  const fail = (key: string, expected: string): never => {
    throw new ModelSignatureError(`${file}: "${key}" must be ${expected}, got ${JSON.stringify(raw[key])}`);
  };
  const family = raw.family as RefinerFamily;
  if (!FAMILIES.includes(family)) fail('family', FAMILIES.map((f) => `"${f}"`).join(' or '));
  if (typeof raw.base_model !== 'string') fail('base_model', 'a string');
  if (raw.kind !== 'lora' && raw.kind !== 'standalone') fail('kind', '"lora" or "standalone"');
  if (typeof raw.timestep !== 'number') fail('timestep', 'a number');
  const shape = raw.latent_shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d)))
    fail('latent_shape', 'an array of integers');
  return {
    family,
    baseModel: raw.base_model as string,
    kind: raw.kind as 'lora' | 'standalone',
    timestep: raw.timestep as number,
    latentShape: shape as number[],
    guidanceConditioned: raw.guidance_conditioned === true,
    training: (raw.training as Record<string, unknown> | undefined) ?? undefined,
  };
}

/** The metadata as the snake_case config.json a refiner folder ships. */
export function refinerConfigJson(metadata: RefinerMetadata): Record<string, unknown> {
  return {
    _class_name: 'NoiseRefiner',
    family: metadata.family,
    base_model: metadata.baseModel,
    kind: metadata.kind,
    timestep: metadata.timestep,
    latent_shape: metadata.latentShape,
    guidance_conditioned: metadata.guidanceConditioned ?? false,
    training: metadata.training ?? {},
  };
}
