import { NoiseRefiner, SiTPipeline, resolveBackend } from '@noiserefine/core';

const backend = await resolveBackend('onnxruntime-node');
const pipe = await SiTPipeline.fromPretrained('./models/tiny-sit', { backend });
// A refiner folder: model.onnx + config.json (family, base model, latent shape, timestep).
const refiner = await NoiseRefiner.fromPretrained('./models/tiny-sit/refiner', { backend });
console.log(refiner.metadata);

const classLabel = [0, 3, 8];
// Guided: two forward passes per step.
const guided = await pipe.generate({ classLabel, seed: 0, guidanceScale: 4 });
// NoiseRefine: one refiner call on the noise, then unguided sampling, one pass per step.
const refined = await pipe.generate({ classLabel, seed: 0, guidanceScale: 1, refiner });
// refinerStrength scales the residual: 0 is plain Gaussian noise, 1 is as trained.
const halfway = await pipe.generate({ classLabel, seed: 0, guidanceScale: 1, refiner, refinerStrength: 0.5 });

console.log(guided.images.length, refined.images.length, halfway.images.length);
await Promise.all([pipe.dispose(), refiner.dispose()]);
