import { StableDiffusionXLPipeline } from '@noiserefine/core';
import { savePpm } from '../save-image';

// An optimum export of SDXL base: two text encoders (with hidden_states.N outputs), two
// tokenizers, a UNet taking text_embeds and time_ids, the VAE decoder (scaling factor 0.13025).
const pipe = await StableDiffusionXLPipeline.fromPretrained('./models/stable-diffusion-xl-base-1.0', {
  backend: 'onnxruntime-node',
});

const { images } = await pipe.generate({
  prompt: 'a red triangle on a light grey background',
  numInferenceSteps: 30,
  guidanceScale: 5,
  // Micro-conditioning, as diffusers: defaults are the output size and a (0, 0) crop.
  originalSize: [1024, 1024],
  cropsCoordsTopLeft: [0, 0],
  targetSize: [1024, 1024],
  seed: 7,
});
await savePpm('sdxl.ppm', images[0]!);
await pipe.dispose();
