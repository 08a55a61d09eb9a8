import { BackendVersionError, UnsupportedCapabilityError } from '../errors';
import { ADAPTER_API_VERSION, type Backend } from './model';

/** A backend given as an adapter object, or by name. */
export type BackendSpec = Backend | string;

type BackendFactory = () => Promise<Backend>;

/**
 * Known adapters, loaded lazily by dynamic import so that naming one in a config
 * needs no import in user code, and importing core registers nothing.
 * Each adapter package's default export is a factory with default options.
 */
const KNOWN: Record<string, BackendFactory> = {
  'onnxruntime-node': async () => callDefault(await import(/* @vite-ignore */ pkg('onnxruntime-node'))),
  'onnxruntime-web': async () => callDefault(await import(/* @vite-ignore */ pkg('onnxruntime-web'))),
  tfjs: async () => callDefault(await import(/* @vite-ignore */ pkg('tfjs'))),
};

// A computed specifier keeps bundlers from pulling every adapter into core.
function pkg(name: string): string {
  return `@noiserefine/${name}`;
}

function callDefault(mod: { default?: unknown }): Promise<Backend> | Backend {
  if (typeof mod.default !== 'function') {
    throw new UnsupportedCapabilityError('adapter package has no default factory export');
  }
  return (mod.default as () => Promise<Backend> | Backend)();
}

export function assertBackend(backend: Backend): Backend {
  if (backend.apiVersion !== ADAPTER_API_VERSION) {
    throw new BackendVersionError(backend.name, ADAPTER_API_VERSION, backend.apiVersion);
  }
  return backend;
}

/** Names accepted by resolveBackend. */
export const knownBackendNames = (): string[] => Object.keys(KNOWN);

/** Turns a BackendSpec into a Backend, importing the named adapter package on demand. */
export async function resolveBackend(spec: BackendSpec): Promise<Backend> {
  if (typeof spec !== 'string') return assertBackend(spec);
  const factory = KNOWN[spec];
  if (!factory) {
    throw new UnsupportedCapabilityError(
      `unknown backend "${spec}"; known backends: ${knownBackendNames().join(', ')} (or pass an adapter object)`,
    );
  }
  try {
    return assertBackend(await factory());
  } catch (error) {
    if (error instanceof Error && /Cannot find (module|package)/.test(error.message)) {
      throw new UnsupportedCapabilityError(
        `backend "${spec}" needs the package @noiserefine/${spec}; install it with npm install @noiserefine/${spec}`,
        { cause: error },
      );
    }
    throw error;
  }
}
