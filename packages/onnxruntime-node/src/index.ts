import {
  createOnnxruntimeBackend,
  type OnnxruntimeAdapterDefaults,
  type OnnxruntimeBackend,
  type OnnxruntimeBackendOptions,
} from '@noiserefine/onnxruntime-shared';
import * as ort from 'onnxruntime-node';

export type {
  ExecutionProvider,
  OnnxruntimeBackend,
  OnnxruntimeModel,
} from '@noiserefine/onnxruntime-shared';

/**
 * Options of the onnxruntime-node backend. `executionProviders` defaults to
 * ['cpu']; 'cuda' needs onnxruntime-node's CUDA libraries (its install script
 * fetches them), 'webgpu' a GPU with Vulkan/D3D12/Metal drivers. A provider
 * that cannot start falls back to 'cpu' with a warning, or fails with `strict`.
 */
export type OnnxruntimeNodeOptions = OnnxruntimeBackendOptions;

export const ONNXRUNTIME_NODE_DEFAULTS: Readonly<OnnxruntimeAdapterDefaults> = {
  name: 'onnxruntime-node',
  executionProviders: ['cpu'],
  fallbackProvider: 'cpu',
  openLocalPaths: true,
};

/** A NoiseRefine backend running ONNX models with onnxruntime-node: `backend: onnxruntimeNode({ executionProviders: ['cuda'] })`. */
export function onnxruntimeNode(options: OnnxruntimeNodeOptions = {}): OnnxruntimeBackend {
  return createOnnxruntimeBackend(ort, ONNXRUNTIME_NODE_DEFAULTS, options);
}

export default onnxruntimeNode;
