/**
 * Runs the same denoising loop on the backend named on the command line and prints a
 * fingerprint of the final latent:
 *
 *   npx tsx src/main.ts --backend onnxruntime-node
 *   npx tsx src/main.ts --backend onnxruntime-web
 *   npx tsx src/main.ts --backend tfjs
 */
import { parseArgs } from 'node:util';
import { runDenoiseLoop } from './denoise-loop';

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'onnxruntime-node' } } });
const start = performance.now();
const latent = await runDenoiseLoop({ backend: values.backend as string });
const ms = performance.now() - start;
const mean = latent.reduce((s, v) => s + v, 0) / latent.length;
console.log(
  `${values.backend}: ${latent.length} values, mean ${mean.toFixed(6)}, first ${latent[0]?.toFixed(6)}, ${ms.toFixed(0)} ms`,
);
