import { type BackendSpec, SiTPipeline, knownBackendNames, resolveBackend } from '@noiserefine/core';

// One code path, three runtimes: the backend is a config value.
//   NOISEREFINE_BACKEND=onnxruntime-web npx tsx switch.ts
const name: BackendSpec = process.env.NOISEREFINE_BACKEND ?? 'onnxruntime-node';
console.log(`known backends: ${knownBackendNames().join(', ')}`);

const backend = await resolveBackend(name);
const pipe = await SiTPipeline.fromPretrained('./models/tiny-sit', { backend });
const { latents } = await pipe.generate({ classLabel: [0, 1], seed: 1, outputType: 'latent' });
const values = await latents.data(); // the only read-back: latents stay on the backend while sampling
console.log(`${backend.name}: first latent value ${values[0]}`);
await pipe.dispose();
await backend.dispose?.();
