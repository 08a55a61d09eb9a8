import { runConformanceSuite } from '@noiserefine/core/testing';
import { onnxruntimeWeb } from './index';

// onnxruntime-web in Node: the wasm provider, as browsers run it without WebGPU.
runConformanceSuite({
  name: 'onnxruntime-web conformance (wasm in Node)',
  createBackend: () => onnxruntimeWeb(),
});
