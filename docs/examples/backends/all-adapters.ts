import type { Backend } from '@noiserefine/core';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import { onnxruntimeWeb } from '@noiserefine/onnxruntime-web';
import { tfjsBackend } from '@noiserefine/tfjs';

// Servers: onnxruntime-node (CPU by default; CUDA or WebGPU by option).
const server: Backend = onnxruntimeNode({ executionProviders: ['cpu'] });

// Browsers (and Node): onnxruntime-web on wasm, or WebGPU where the browser has it.
const browser: Backend = onnxruntimeWeb({ executionProviders: ['webgpu'] });

// Training: tfjs, on the best engine installed (tfjs-node-gpu, tfjs-node, wasm, cpu).
const training = await tfjsBackend();
console.log(training.engineReport);

for (const backend of [server, browser, training]) {
  const model = await backend.loadModel('./models/tiny-sit/transformer/model.onnx');
  console.log(backend.name, model.inputs.map((i) => `${i.name}: ${i.dtype}`).join(', '));
  await model.dispose();
}
