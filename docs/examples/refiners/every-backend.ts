import { NoiseRefiner, StableDiffusionPipeline, resolveBackend } from '@noiserefine/core';

// The same refined, unguided generation on each runtime; only the backend name changes.
// In a browser, pass folder URLs (e.g. '/models/tiny-sit/') instead of paths.
for (const name of ['onnxruntime-node', 'onnxruntime-web', 'tfjs']) {
  const backend = await resolveBackend(name);
  const pipe = await StableDiffusionPipeline.fromPretrained('./models/tiny-sd21', { backend });
  const refiner = await NoiseRefiner.fromPretrained('./models/tiny-sd21/refiner', { backend });
  const { latents } = await pipe.generate({
    prompt: 'a red circle on a grey background',
    seed: 0,
    guidanceScale: 1,
    refiner,
    outputType: 'latent',
  });
  console.log(name, (await latents.data()).slice(0, 4));
  await Promise.all([pipe.dispose(), refiner.dispose()]);
  await backend.dispose?.();
}
