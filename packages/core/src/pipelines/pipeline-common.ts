import type { Backend, Model, ModelSource } from '../backend/model';
import { type BackendSpec, resolveBackend } from '../backend/registry';
import { InvalidArgumentError, ShapeMismatchError } from '../errors';
import { classifierFreeGuidance } from '../guidance/classifier-free';
import type { Guidance } from '../guidance/guidance';
import { Generator } from '../random/generator';
import type { Scheduler } from '../schedulers/scheduler';
import { scale, shapesEqual, toBackend } from '../tensor/index';
import type { Tensor } from '../tensor/tensor';
import type { RgbImage } from './images';
import type { ModelFolder } from './model-folder';
import type { ProgressEvent } from './sampling-loop';

export interface PipelineLoadOptions {
  /** An adapter object (`onnxruntimeNode()`) or its name (`'onnxruntime-node'`). */
  backend: BackendSpec;
  /** Receives non-fatal notes (unknown config keys, substituted schedulers); default console.warn. */
  onWarning?: (message: string) => void;
}

/** Options every family's generate() takes. */
export interface CommonGenerateOptions {
  /** Seed of the initial noise: equals torch.manual_seed(seed); torch.randn(shape). Default 0. */
  seed?: number;
  /** Continue an existing noise stream instead of seeding a fresh one. */
  generator?: Generator;
  numInferenceSteps?: number;
  /** diffusers' w: guidance on iff w > 1. Ignored when `guidance` is given. */
  guidanceScale?: number;
  /** Any guidance object (PAG, guidance intervals, …); overrides guidanceScale. */
  guidance?: Guidance;
  /** A scheduler to use instead of the folder's. */
  scheduler?: Scheduler;
  /** Initial latents (unscaled N(0, I) noise) instead of seeded ones. */
  latents?: Tensor;
  /** DDIM eta. */
  eta?: number;
  outputType?: 'image' | 'latent';
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  /** Decoded RGB images (empty when outputType is 'latent'). */
  images: RgbImage[];
  /** The final latents, always. */
  latents: Tensor;
}

/** Loads `<component>/model.onnx`, with `model.onnx_data` as external data when the folder has it. */
export async function loadComponent(
  backend: Backend,
  folder: ModelFolder,
  component: string,
): Promise<Model> {
  const modelPath = folder.resolve(`${component}/model.onnx`);
  const source: ModelSource = (await folder.has(`${component}/model.onnx_data`))
    ? {
        model: modelPath,
        externalData: [{ path: 'model.onnx_data', data: folder.resolve(`${component}/model.onnx_data`) }],
      }
    : modelPath;
  if (!(await folder.has(`${component}/model.onnx`))) {
    // Let the folder produce the typed error naming the missing file.
    await folder.readBytes(`${component}/model.onnx`);
  }
  return backend.loadModel(source);
}

export const resolvePipelineBackend = (spec: BackendSpec): Promise<Backend> => resolveBackend(spec);

/** CFG at the given scale unless the caller passed a guidance object. */
export function resolveGuidance(
  options: CommonGenerateOptions,
  defaultScale: number,
  channels?: number,
): Guidance {
  if (options.guidance) return options.guidance;
  return classifierFreeGuidance({ guidanceScale: options.guidanceScale ?? defaultScale, channels });
}

/**
 * Initial latents as the reference pipelines make them: N(0, I) from the seed (or the
 * caller's latents), times the scheduler's initNoiseSigma, on the backend's tensors.
 */
export async function prepareLatents(
  backend: Backend,
  shape: readonly number[],
  options: CommonGenerateOptions,
  initNoiseSigma: number,
): Promise<Tensor> {
  let noise: Tensor;
  if (options.latents) {
    if (!shapesEqual(options.latents.shape, shape)) {
      throw new ShapeMismatchError('latents', [...shape], options.latents.shape);
    }
    noise = await toBackend(options.latents, backend.tensors);
  } else {
    const generator = options.generator ?? new Generator(options.seed ?? 0);
    noise = generator.randn(shape, backend.tensors);
  }
  if (initNoiseSigma === 1) return noise === options.latents ? scale(noise, 1) : noise;
  const scaled = scale(noise, initNoiseSigma);
  if (noise !== options.latents) noise.dispose();
  return scaled;
}

export function checkStepCount(numInferenceSteps: number): number {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
    throw new InvalidArgumentError(`numInferenceSteps must be a positive integer, got ${numInferenceSteps}`);
  }
  return numInferenceSteps;
}
