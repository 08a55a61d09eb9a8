/**
 * Entry of the browser test page: exposes the DDIM loop on the wasm backend
 * (and with WebGPU requested), and refined SiT generation from a served model
 * folder, to the test driving the page.
 */
import { tensor } from '@noiserefine/core';
import { onnxruntimeWeb } from '../index';
import { type DdimLoopOptions, runDdimLoop } from './ddim-loop';
import { type RefinedSitOptions, runRefinedSit } from './refined-sit';

interface PageRun {
  latent: number[];
  executionProviders: readonly string[];
  warnings: string[];
}

async function runInPage(modelUrl: string, options: DdimLoopOptions, providers: string[]): Promise<PageRun> {
  const warnings: string[] = [];
  const backend = onnxruntimeWeb({
    wasmPaths: '/ort/',
    numThreads: 1,
    executionProviders: providers,
    onWarning: (m) => warnings.push(m),
  });
  const { latent, executionProviders } = await runDdimLoop(
    backend,
    new URL(modelUrl, location.href),
    options,
  );
  return { latent: Array.from(latent), executionProviders, warnings };
}

async function loadError(modelUrl: string): Promise<{ name: string; message: string }> {
  try {
    await onnxruntimeWeb({ wasmPaths: '/ort/', numThreads: 1 }).loadModel(modelUrl);
    return { name: 'none', message: '' };
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
}

/** Runs a float16 model on float32 values: the conversion both ways, with the browser's Float16Array if it has one. */
async function runFloat16(modelUrl: string, values: number[]): Promise<number[]> {
  const backend = onnxruntimeWeb({ wasmPaths: '/ort/', numThreads: 1 });
  const model = await backend.loadModel(new URL(modelUrl, location.href));
  const { y } = await model.run({ x: tensor(values, [values.length]) });
  await model.dispose();
  return Array.from(await y!.data());
}

/** Loads the pipeline and its refiner from a folder URL; latents come back as plain arrays. */
async function runRefinedSitInPage(
  folderUrl: string,
  options: RefinedSitOptions,
): Promise<{ refined: number[]; unrefined: number[] }> {
  const backend = onnxruntimeWeb({ wasmPaths: '/ort/', numThreads: 1 });
  const { refined, unrefined } = await runRefinedSit(
    backend,
    new URL(folderUrl, location.href).href,
    options,
  );
  return { refined: Array.from(refined), unrefined: Array.from(unrefined) };
}

Object.assign(globalThis, { noiserefineTest: { runInPage, loadError, runFloat16, runRefinedSitInPage } });
