import type { Tensor, TensorBackend } from '../tensor/tensor';

/** Element types a model's inputs and outputs may have. */
export type ModelDType =
  | 'float32'
  | 'float16'
  | 'int64'
  | 'int32'
  | 'int8'
  | 'uint8'
  | 'bool'
  | 'float64'
  | 'string';

/** A dimension: a fixed size, or a symbolic name ("batch"), or null when unknown. */
export type Dim = number | string | null;

export interface ValueInfo {
  readonly name: string;
  readonly dtype: ModelDType;
  readonly shape: readonly Dim[];
}

/**
 * Non-float data for a model input (token ids, integer timesteps, labels).
 * Float inputs are passed as core Tensors; the runner converts them to the
 * model's float type (float16 included).
 */
export interface HostTensor {
  readonly dtype: 'int64' | 'int32' | 'float32' | 'float16' | 'bool' | 'uint8' | 'int8';
  readonly data:
    | BigInt64Array
    | Int32Array
    | Float32Array
    | Uint16Array
    | Uint8Array
    | Int8Array
    | readonly number[];
  readonly shape: readonly number[];
}

export type ModelFeeds = Record<string, Tensor | HostTensor>;

export interface RunOptions {
  /** Output names to compute (default: all). */
  outputs?: readonly string[];
  signal?: AbortSignal;
}

/** A loaded model on one backend. Float outputs come back as core Tensors on that backend. */
export interface Model {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  run(feeds: ModelFeeds, options?: RunOptions): Promise<Record<string, Tensor>>;
  dispose(): Promise<void>;
}

/** External weight files referenced by a model (ONNX external data). */
export interface ExternalDataFile {
  /** The path the model refers to, e.g. "model.onnx_data". */
  path: string;
  /** Its bytes, or a path or URL to read them from. */
  data: Uint8Array | string;
}

/** A model given as a file path, a URL, or bytes, optionally with external data files. */
export type ModelSource =
  | string
  | URL
  | Uint8Array
  | { model: string | URL | Uint8Array; externalData?: readonly ExternalDataFile[] };

export interface LoadModelOptions {
  /** Fixes symbolic dimensions, e.g. { batch: 2 }. */
  freeDimensionOverrides?: Record<string, number>;
  signal?: AbortSignal;
}

/** Version of the Backend contract that adapters implement. */
export const ADAPTER_API_VERSION = 1 as const;

/**
 * What an adapter package provides: tensors, and models running on them.
 * Users pass one (`backend: onnxruntimeNode()`) or name it (`backend: 'onnxruntime-node'`).
 */
export interface Backend {
  readonly name: string;
  readonly apiVersion: typeof ADAPTER_API_VERSION;
  readonly tensors: TensorBackend;
  loadModel(source: ModelSource, options?: LoadModelOptions): Promise<Model>;
  /** Releases backend-wide resources. */
  dispose?(): Promise<void>;
}
