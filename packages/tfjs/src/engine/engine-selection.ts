import * as tf from '@tensorflow/tfjs-core';
import { UnsupportedCapabilityError, UnsupportedOptionError } from '@noiserefine/core';
import { registerMissingGradients } from '../gradients/register-gradients';

/** The tfjs engines this adapter can run on, best first. */
export type EngineName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

export interface EngineCandidate {
  readonly engine: EngineName;
  /** The npm package that provides it (an optional peer dependency). */
  readonly packageName: string;
  /** The name tfjs registers the backend under. */
  readonly tfBackendName: string;
  readonly location: 'cpu' | 'wasm' | 'gpu';
}

export const ENGINE_CANDIDATES: readonly EngineCandidate[] = [
  {
    engine: 'tfjs-node-gpu',
    packageName: '@tensorflow/tfjs-node-gpu',
    tfBackendName: 'tensorflow',
    location: 'gpu',
  },
  { engine: 'tfjs-node', packageName: '@tensorflow/tfjs-node', tfBackendName: 'tensorflow', location: 'cpu' },
  { engine: 'wasm', packageName: '@tensorflow/tfjs-backend-wasm', tfBackendName: 'wasm', location: 'wasm' },
  { engine: 'cpu', packageName: '@tensorflow/tfjs-backend-cpu', tfBackendName: 'cpu', location: 'cpu' },
];

export interface EngineAttempt {
  readonly engine: EngineName;
  readonly packageName: string;
  /** chosen; skipped because not installed / failed to start / excluded by a forced choice; or never tried. */
  readonly outcome: 'chosen' | 'not-installed' | 'failed' | 'excluded' | 'not-tried';
  readonly reason: string;
}

/** Which engine runs, and why each better one did not. */
export interface EngineReport {
  readonly engine: EngineName;
  readonly tfBackendName: string;
  readonly location: 'cpu' | 'wasm' | 'gpu';
  readonly forced: boolean;
  readonly attempts: readonly EngineAttempt[];
  /** One line per candidate, for logs. */
  readonly summary: string;
}

export interface EngineSelectionOptions {
  /** Use exactly this engine; fail if it cannot start. */
  engine?: EngineName;
  /** Where the wasm engine finds its .wasm files (tfjs `setWasmPaths`); defaults to the installed package. */
  wasmPaths?: string | Record<string, string>;
  /** Replaces the dynamic import, for bundlers that need static imports or for tests. */
  importEngine?: (packageName: string) => Promise<unknown>;
}

const importByName = (packageName: string): Promise<unknown> => import(/* @vite-ignore */ packageName);

/** Node says "Cannot find package"; bundlers and vite say "Could not / Failed to resolve". */
function isMissingPackage(error: unknown, packageName: string): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return (
    /Cannot find (module|package)|Could not resolve|Failed to resolve|Failed to load url/i.test(message) &&
    message.includes(packageName)
  );
}

async function startEngine(candidate: EngineCandidate, options: EngineSelectionOptions): Promise<void> {
  const load = options.importEngine ?? importByName;
  const mod = (await load(candidate.packageName)) as { setWasmPaths?: (paths: unknown) => void };
  if (candidate.engine === 'wasm' && options.wasmPaths !== undefined) {
    mod.setWasmPaths?.(options.wasmPaths);
  }
  if (!tf.findBackendFactory(candidate.tfBackendName)) {
    throw new Error(`importing ${candidate.packageName} registered no "${candidate.tfBackendName}" backend`);
  }
  const ok = await tf.setBackend(candidate.tfBackendName);
  if (!ok) throw new Error(`tfjs could not initialise the "${candidate.tfBackendName}" backend`);
  await tf.ready();
  if (candidate.engine === 'tfjs-node-gpu' && !hasCudaDevice()) {
    throw new Error('no CUDA device is visible to TensorFlow (tfjs-node-gpu needs CUDA 11.2 and cuDNN 8.1)');
  }
}

/** tfjs-node-gpu quietly runs on the CPU when CUDA is missing; report that as a failure to start. */
function hasCudaDevice(): boolean {
  const binding = (tf.backend() as { binding?: { isUsingGpuDevice?: () => boolean } }).binding;
  return binding?.isUsingGpuDevice?.() ?? true;
}

function describeAttempt(a: EngineAttempt): string {
  return `${a.engine} (${a.packageName}): ${a.outcome}, ${a.reason}`;
}

/**
 * Starts the best tfjs engine present, in the order tfjs-node-gpu, tfjs-node, wasm, cpu,
 * and records why each better one was skipped. tfjs keeps one active backend per process:
 * the engine chosen here is the one every tfjs op runs on afterwards.
 */
export async function selectEngine(options: EngineSelectionOptions = {}): Promise<EngineReport> {
  const forced = options.engine;
  if (forced !== undefined && !ENGINE_CANDIDATES.some((c) => c.engine === forced)) {
    throw new UnsupportedOptionError(
      'engine',
      forced,
      ENGINE_CANDIDATES.map((c) => c.engine),
      { context: 'tfjs backend' },
    );
  }
  const attempts: EngineAttempt[] = [];
  let chosen: EngineCandidate | undefined;
  for (const candidate of ENGINE_CANDIDATES) {
    const base = { engine: candidate.engine, packageName: candidate.packageName };
    if (chosen) {
      attempts.push({ ...base, outcome: 'not-tried', reason: `a better engine (${chosen.engine}) started` });
      continue;
    }
    if (forced !== undefined && candidate.engine !== forced) {
      attempts.push({ ...base, outcome: 'excluded', reason: `engine "${forced}" was requested` });
      continue;
    }
    try {
      await startEngine(candidate, options);
      chosen = candidate;
      attempts.push({
        ...base,
        outcome: 'chosen',
        reason: forced !== undefined ? 'requested by the engine option' : 'the best engine installed',
      });
    } catch (error) {
      const missing = isMissingPackage(error, candidate.packageName);
      const reason = missing
        ? 'package not installed'
        : `failed to start: ${error instanceof Error ? error.message : String(error)}`;
      attempts.push({ ...base, outcome: missing ? 'not-installed' : 'failed', reason });
      if (forced !== undefined) {
        throw new UnsupportedCapabilityError(
          `tfjs engine "${forced}" was requested but ${reason}; install ${candidate.packageName} or choose another engine`,
          { cause: error },
        );
      }
    }
  }
  if (!chosen) {
    throw new UnsupportedCapabilityError(
      `no tfjs engine could start; install one of ${ENGINE_CANDIDATES.map((c) => c.packageName).join(', ')}. Tried: ${attempts.map(describeAttempt).join('; ')}`,
    );
  }
  registerMissingGradients();
  return {
    engine: chosen.engine,
    tfBackendName: chosen.tfBackendName,
    location: chosen.location,
    forced: forced !== undefined,
    attempts,
    summary: attempts.map(describeAttempt).join('\n'),
  };
}
