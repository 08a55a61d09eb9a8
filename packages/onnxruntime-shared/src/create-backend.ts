import {
  ADAPTER_API_VERSION,
  AbortError,
  type Backend,
  type LoadModelOptions,
  type ModelSource,
  referenceBackend,
  type TensorBackend,
} from '@noiserefine/core';
import { resolveModelSource } from './model-source';
import { OnnxruntimeModel, throwIfAborted } from './onnxruntime-model';
import { openSession } from './open-session';
import type { ExecutionProvider, OrtRuntime, OrtSessionOptions } from './runtime';

/** What distinguishes one onnxruntime package's adapter from another's. */
export interface OnnxruntimeAdapterDefaults {
  /** The backend's name, as `resolveBackend` knows it ('onnxruntime-node'). */
  name: string;
  /** Providers used when the caller names none. */
  executionProviders: readonly ExecutionProvider[];
  /** The provider that always works there ('cpu', 'wasm'); unavailable providers fall back to it. */
  fallbackProvider: ExecutionProvider;
  /** Whether the runtime opens local model paths itself (see ResolveOptions). */
  openLocalPaths: boolean;
}

export interface OnnxruntimeBackendOptions {
  /** Execution providers in order of preference, e.g. 'webgpu' or ['cuda'], or with options ({ name: 'cuda', deviceId: 1 }). */
  executionProviders?: ExecutionProvider | readonly ExecutionProvider[];
  /**
   * Fail with UnsupportedCapabilityError when a requested provider is unavailable.
   * By default the model falls back to the CPU provider with a warning.
   */
  strict?: boolean;
  /** Further session options (threads, graph optimisation level, logging); ours take precedence. */
  sessionOptions?: OrtSessionOptions;
  /** Receives warnings such as provider fallbacks (default: console.warn). */
  onWarning?: (message: string) => void;
}

/** A Backend on onnxruntime; its models are OnnxruntimeModels. */
export interface OnnxruntimeBackend extends Backend {
  /** The providers asked for, in order. */
  readonly executionProviders: readonly ExecutionProvider[];
  loadModel(source: ModelSource, options?: LoadModelOptions): Promise<OnnxruntimeModel>;
  dispose(): Promise<void>;
}

/**
 * The adapter over one onnxruntime package. Tensors between model calls live on
 * core's reference backend (Float32Array): scheduler math is a few fused passes
 * per step, far cheaper than a denoiser call, and outputs wrap without copies.
 */
export function createOnnxruntimeBackend(
  runtime: OrtRuntime,
  defaults: OnnxruntimeAdapterDefaults,
  options: OnnxruntimeBackendOptions = {},
): OnnxruntimeBackend {
  const requested = options.executionProviders ?? defaults.executionProviders;
  const providers: readonly ExecutionProvider[] = Array.isArray(requested)
    ? [...(requested as readonly ExecutionProvider[])]
    : [requested as ExecutionProvider];
  const warn = options.onWarning ?? ((message: string) => console.warn(message));
  const unavailable = new Set<string>();
  const live = new Set<OnnxruntimeModel>();
  const tensors: TensorBackend = referenceBackend;

  async function loadModel(
    source: ModelSource,
    loadOptions: LoadModelOptions = {},
  ): Promise<OnnxruntimeModel> {
    const { signal, freeDimensionOverrides } = loadOptions;
    throwIfAborted(signal, 'model load');
    const resolved = await resolveModelSource(source, { openLocalPaths: defaults.openLocalPaths });
    const sessionOptions: OrtSessionOptions = { ...options.sessionOptions };
    if (freeDimensionOverrides) sessionOptions.freeDimensionOverrides = freeDimensionOverrides;
    if (resolved.externalData) sessionOptions.externalData = resolved.externalData;
    const { session, providers: used } = await openSession({
      runtime,
      backend: defaults.name,
      label: resolved.label,
      model: resolved.model,
      options: sessionOptions,
      providers: providers.length > 0 ? providers : defaults.executionProviders,
      fallback: defaults.fallbackProvider,
      strict: options.strict ?? false,
      unavailable,
      warn,
    });
    if (signal?.aborted) {
      await session.release();
      throw new AbortError(`load of model "${resolved.label}" was aborted`, { cause: signal.reason });
    }
    let model: OnnxruntimeModel;
    try {
      model = new OnnxruntimeModel({
        runtime,
        session,
        label: resolved.label,
        providers: used,
        freeDimensionOverrides,
        onDispose: (m) => live.delete(m),
      });
    } catch (error) {
      await session.release();
      throw error;
    }
    live.add(model);
    return model;
  }

  return {
    name: defaults.name,
    apiVersion: ADAPTER_API_VERSION,
    tensors,
    executionProviders: providers,
    loadModel,
    /** Releases every model this backend loaded and has not yet disposed. */
    async dispose() {
      await Promise.all([...live].map((m) => m.dispose()));
    },
  };
}
