import { StableDiffusionPipeline } from '@noiserefine/core';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';

const folder = './models/stable-diffusion-2-1';

// By name: the adapter package is imported when first needed (it must be installed).
const byName = await StableDiffusionPipeline.fromPretrained(folder, { backend: 'onnxruntime-node' });

// By object: the same adapter with options. CUDA falls back to the CPU with a warning
// when its libraries are missing; strict: true makes that an error instead.
const onGpu = await StableDiffusionPipeline.fromPretrained(folder, {
  backend: onnxruntimeNode({ executionProviders: ['cuda'], strict: true }),
});

await Promise.all([byName.dispose(), onGpu.dispose()]);
