import type {
  InferenceSession,
  InferenceSessionFactory,
  Tensor,
  TensorConstructor,
} from 'onnxruntime-common';

/**
 * The part of an onnxruntime package the adapter uses. onnxruntime-node and
 * onnxruntime-web both export it, so `import * as ort from 'onnxruntime-web'`
 * is one.
 */
export interface OrtRuntime {
  readonly InferenceSession: InferenceSessionFactory;
  readonly Tensor: TensorConstructor;
}

export type OrtSession = InferenceSession;
export type OrtTensor = Tensor;
export type OrtSessionOptions = InferenceSession.SessionOptions;
export type OrtValueMetadata = InferenceSession.ValueMetadata;

/** An execution provider by name ('cpu', 'cuda', 'wasm', 'webgpu') or with its options ({ name: 'cuda', deviceId: 1 }). */
export type ExecutionProvider = InferenceSession.ExecutionProviderConfig;

export function providerName(provider: ExecutionProvider): string {
  return typeof provider === 'string' ? provider : provider.name;
}

/** Opens a session from a path the runtime reads itself, or from bytes. */
export function createSession(
  runtime: OrtRuntime,
  model: string | Uint8Array,
  options: OrtSessionOptions,
): Promise<OrtSession> {
  return typeof model === 'string'
    ? runtime.InferenceSession.create(model, options)
    : runtime.InferenceSession.create(model, options);
}
