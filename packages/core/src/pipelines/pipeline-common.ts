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
import type { NoiseRefiner, RefinerFamily } from '../refine/refiner';
import { type DenoiserSpec, runPasses } from './pass-runner';
import { decodeLatents } from './images';
import { runSamplingLoop } from './sampling-loop';
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
  /** A NoiseRefiner: the initial noise is refined once, x̂_T = x_T + strength·g(x_T, c), before sampling. */
  refiner?: NoiseRefiner;
  /** Residual scale of the refiner (default 1; 0 reproduces Gaussian sampling exactly). */
  refinerStrength?: number;
  /** For guidance-conditioned refiners: the guidance scale to emulate. */
  refinerGuidanceScale?: number;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  /** Decoded RGB images (empty when outputType is 'latent'). */
  images: RgbImage[];
  /** The final latents, always. */
  latents: Tensor;
}

/**
 * Loads `<component>/model.onnx` (or the folder's own `model.onnx` when component is ''),
 * with `model.onnx_data` beside it as external data when present.
 */
export async function loadComponent(
  backend: Backend,
  folder: ModelFolder,
  component: string,
): Promise<Model> {
  const prefix = component === '' ? '' : `${component}/`;
  await folder.require(`${prefix}model.onnx`, `${component || 'model'} ONNX file`);
  const modelPath = folder.resolve(`${prefix}model.onnx`);
  const source: ModelSource = (await folder.has(`${prefix}model.onnx_data`))
    ? {
        model: modelPath,
        externalData: [{ path: 'model.onnx_data', data: folder.resolve(`${prefix}model.onnx_data`) }],
      }
    : modelPath;
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
 * caller's latents), refined once when a refiner is given, then times the scheduler's
 * initNoiseSigma, on the backend's tensors. The caller owns the result.
 */
export async function prepareLatents(
  backend: Backend,
  shape: readonly number[],
  options: CommonGenerateOptions,
  initNoiseSigma: number,
  refining?: { family: RefinerFamily; denoiser: DenoiserSpec },
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
  const owned = noise !== options.latents;
  let start = noise;
  if (options.refiner && refining) {
    options.refiner.assertCompatible(refining.family, shape);
    start = await options.refiner.refine(noise, refining.denoiser, {
      strength: options.refinerStrength,
      guidanceScale: options.refinerGuidanceScale,
    });
    if (owned) noise.dispose();
  } else if (!owned) {
    start = scale(noise, 1);
  }
  if (initNoiseSigma === 1) return start;
  const scaled = scale(start, initNoiseSigma);
  start.dispose();
  return scaled;
}

export function checkStepCount(numInferenceSteps: number): number {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
    throw new InvalidArgumentError(`numInferenceSteps must be a positive integer, got ${numInferenceSteps}`);
  }
  return numInferenceSteps;
}

export interface SampleRequest {
  backend: Backend;
  family: RefinerFamily;
  scheduler: Scheduler;
  shape: readonly number[];
  denoiser: DenoiserSpec;
  guidance: Guidance;
  vaeDecoder: Model;
  scalingFactor: number;
  options: CommonGenerateOptions;
}

/**
 * What every family's generate() does once its conditioning is ready: initial (optionally
 * refined) latents, the shared sampling loop, then decoding unless only latents are asked for.
 */
export async function sampleAndDecode(request: SampleRequest): Promise<GenerateResult> {
  const { backend, scheduler, denoiser, options } = request;
  const latents = await prepareLatents(backend, request.shape, options, scheduler.initNoiseSigma, {
    family: request.family,
    denoiser,
  });
  try {
    const final = await runSamplingLoop({
      scheduler,
      guidance: request.guidance,
      latents,
      denoise: (x, t, passes) => runPasses(denoiser, x, t, passes),
      eta: options.eta,
      generator: options.generator,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    const images =
      options.outputType === 'latent'
        ? []
        : await decodeLatents(request.vaeDecoder, final, request.scalingFactor);
    return { images, latents: final };
  } finally {
    latents.dispose();
  }
}
