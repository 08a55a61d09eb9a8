// npm install @noiserefine/core @noiserefine/onnxruntime-node
import { StableDiffusionPipeline } from '@noiserefine/core';
import { savePpm } from '../save-image';

// A Stable Diffusion folder exported to ONNX (optimum-cli export onnx, or torch.onnx.export).
const pipe = await StableDiffusionPipeline.fromPretrained('./models/stable-diffusion-2-1', {
  backend: 'onnxruntime-node',
});
const { images } = await pipe.generate({
  prompt: 'a red circle on a grey background',
  seed: 42, // the same noise as torch.manual_seed(42); torch.randn(...)
  numInferenceSteps: 25,
  guidanceScale: 7.5,
});
await savePpm('first-image.ppm', images[0]!);
await pipe.dispose();
