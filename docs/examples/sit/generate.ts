import { SiTPipeline } from '@noiserefine/core';
import { savePpm } from '../save-image';

// A SiT folder: transformer/ (x, t, y → velocity), vae_decoder/, scheduler/ (SiTFlowScheduler).
const pipe = await SiTPipeline.fromPretrained('./models/tiny-sit', { backend: 'onnxruntime-node' });
console.log(pipe.config); // numClasses, inputSize, cfgChannels, guidanceScale from transformer/config.json

const { images, latents } = await pipe.generate({
  classLabel: [0, 3, 8], // one image per label; the null class (numClasses) is the uncond pass
  seed: 0,
  numInferenceSteps: 20, // Euler steps from t = 0 (noise) to t = 1 (data)
  guidanceScale: 4,
  onProgress: ({ step, totalSteps }) => process.stdout.write(`\rstep ${step}/${totalSteps}`),
});
console.log(`\nlatents ${latents.shape.join('×')}`);
for (const [i, image] of images.entries()) await savePpm(`sit-${i}.ppm`, image);
await pipe.dispose();
