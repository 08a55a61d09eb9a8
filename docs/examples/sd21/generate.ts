import { StableDiffusionPipeline } from '@noiserefine/core';
import { savePpm } from '../save-image';

// An optimum export of stabilityai/stable-diffusion-2-1: text_encoder/, unet/, vae_decoder/,
// tokenizer/, scheduler/. The UNet's timestep type (int64 [B] or float scalar) and the
// token id type are read from the model; fp16 exports work the same way.
const pipe = await StableDiffusionPipeline.fromPretrained('./models/stable-diffusion-2-1', {
  backend: 'onnxruntime-node',
});

const { images } = await pipe.generate({
  prompt: ['a red circle on a grey background', 'a blue ring on a light grey background'],
  negativePrompt: 'blurry',
  height: 768,
  width: 768,
  numInferenceSteps: 25,
  guidanceScale: 7.5,
  seed: 42,
});
for (const [i, image] of images.entries()) await savePpm(`sd21-${i}.ppm`, image);
await pipe.dispose();
