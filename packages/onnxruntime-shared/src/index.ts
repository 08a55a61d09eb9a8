export {
  createOnnxruntimeBackend,
  type OnnxruntimeAdapterDefaults,
  type OnnxruntimeBackend,
  type OnnxruntimeBackendOptions,
} from './create-backend';
export { OnnxruntimeModel } from './onnxruntime-model';
export { type ExecutionProvider, type OrtRuntime, providerName } from './runtime';
