/**
 * Entry of the browser test page: exposes the DDIM loop on the wasm backend
 * (and with WebGPU requested) to the test driving the page.
 */
import { onnxruntimeWeb } from '../index';
import { type DdimLoopOptions, runDdimLoop } from './ddim-loop';

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

Object.assign(globalThis, { noiserefineTest: { runInPage, loadError } });
