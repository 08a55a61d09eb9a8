/**
 * Runs the same code on the backend named on the command line and prints a fingerprint of
 * the final latent.
 *
 * The DDIM + CFG loop on a small UNet:
 *
 *   npx tsx src/main.ts --backend onnxruntime-node
 *   npx tsx src/main.ts --backend onnxruntime-web
 *   npx tsx src/main.ts --backend tfjs
 *
 * NoiseRefine: refined, unguided generation of a zoo model (default tiny-sit; any pipeline
 * folder with a `refiner/` subfolder), latents only:
 *
 *   npx tsx src/main.ts --refiner --backend tfjs
 *   npx tsx src/main.ts --refiner --model ../../zoo/models/tiny-sd21 --backend onnxruntime-web
 */
import { parseArgs } from 'node:util';
import { numberOption, userPath } from '@noiserefine/examples-shared';
import { runDenoiseLoop } from './denoise-loop';
import { loadRefinedSampler } from './refined-sampling';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'onnxruntime-node' },
    refiner: { type: 'boolean', default: false },
    model: { type: 'string' },
    seed: { type: 'string', default: '0' },
    steps: { type: 'string', default: '20' },
    strength: { type: 'string', default: '1' },
  },
});

async function refinedLatent(): Promise<Float32Array> {
  const sampler = await loadRefinedSampler({
    backend: values.backend,
    model: values.model === undefined ? undefined : userPath(values.model),
    seed: numberOption('seed', values.seed, Number.isInteger, 'an integer'),
    steps: numberOption('steps', values.steps, (v) => Number.isInteger(v) && v > 0, 'a positive integer'),
  });
  try {
    return await sampler.sample({ refinerStrength: numberOption('strength', values.strength) });
  } finally {
    await sampler.dispose();
  }
}

const start = performance.now();
const latent = values.refiner ? await refinedLatent() : await runDenoiseLoop({ backend: values.backend });
const ms = performance.now() - start;
const mean = latent.reduce((s, v) => s + v, 0) / latent.length;
console.log(
  `${values.backend}${values.refiner ? ' (refined)' : ''}: ${latent.length} values, mean ${mean.toFixed(6)}, first ${latent[0]?.toFixed(6)}, ${ms.toFixed(0)} ms`,
);
