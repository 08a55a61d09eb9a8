import {
  createOnnxruntimeBackend,
  type OnnxruntimeAdapterDefaults,
  type OnnxruntimeBackend,
  type OnnxruntimeBackendOptions,
} from '@noiserefine/onnxruntime-shared';
import { InvalidArgumentError } from '@noiserefine/core';
import * as ort from 'onnxruntime-web';

export type {
  ExecutionProvider,
  OnnxruntimeBackend,
  OnnxruntimeModel,
} from '@noiserefine/onnxruntime-shared';

/**
 * Options of the onnxruntime-web backend. `executionProviders` defaults to
 * ['wasm']; 'webgpu' needs a browser with WebGPU. A provider that cannot start
 * falls back to 'wasm' with a warning, or fails with `strict`.
 */
export interface OnnxruntimeWebOptions extends OnnxruntimeBackendOptions {
  /**
   * Where onnxruntime-web's .wasm files are served from (a URL prefix ending in
   * "/"), when the app's bundler does not place them beside the script. Sets the
   * runtime-wide `env.wasm.wasmPaths`.
   */
  wasmPaths?: string;
  /** Threads of the wasm provider; more than 1 needs a cross-origin isolated page. Sets `env.wasm.numThreads`. */
  numThreads?: number;
}

export const ONNXRUNTIME_WEB_DEFAULTS: Readonly<OnnxruntimeAdapterDefaults> = {
  name: 'onnxruntime-web',
  executionProviders: ['wasm'],
  fallbackProvider: 'wasm',
  openLocalPaths: false,
};

/** A NoiseRefine backend running ONNX models with onnxruntime-web: `backend: onnxruntimeWeb({ executionProviders: ['webgpu'] })`. */
export function onnxruntimeWeb(options: OnnxruntimeWebOptions = {}): OnnxruntimeBackend {
  const { wasmPaths, numThreads, ...backendOptions } = options;
  if (wasmPaths !== undefined) ort.env.wasm.wasmPaths = wasmPaths;
  if (numThreads !== undefined) {
    if (!Number.isInteger(numThreads) || numThreads < 0) {
      throw new InvalidArgumentError(
        `onnxruntimeWeb: numThreads must be a non-negative integer (0: automatic), got ${numThreads}`,
      );
    }
    ort.env.wasm.numThreads = numThreads;
  }
  return createOnnxruntimeBackend(ort, ONNXRUNTIME_WEB_DEFAULTS, backendOptions);
}

export default onnxruntimeWeb;
