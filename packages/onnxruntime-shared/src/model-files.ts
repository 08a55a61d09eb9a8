/**
 * Reading model and external-data files from paths and URLs, in Node and in
 * browsers, with errors that name the file. Node's fs is imported on demand
 * through a computed specifier, so browser bundles of this module never try
 * to resolve it.
 */
import { ModelLoadError } from '@noiserefine/core';

export type FileLocation = string | URL;

const URL_SCHEMES = new Set(['http:', 'https:', 'file:', 'blob:', 'data:']);

export function isNodeRuntime(): boolean {
  const versions = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions;
  return typeof versions?.node === 'string';
}

function nodeModule<T>(name: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`) as Promise<T>;
}

/** A URL when the location is one with a scheme we fetch or map to a file; paths (even "C:\\x") stay paths. */
export function asUrl(location: FileLocation): URL | undefined {
  if (location instanceof URL) return location;
  if (!/^[a-z][a-z0-9+.-]+:/i.test(location)) return undefined;
  try {
    const url = new URL(location);
    return URL_SCHEMES.has(url.protocol) ? url : undefined;
  } catch {
    return undefined;
  }
}

/** How a location appears in messages. */
export function describeLocation(location: FileLocation): string {
  return location instanceof URL ? location.href : location;
}

/**
 * The local file path a location names, when running in Node: a plain path or a
 * file: URL. Undefined for remote URLs and in browsers, where paths are fetched.
 */
export async function localPathOf(location: FileLocation): Promise<string | undefined> {
  if (!isNodeRuntime()) return undefined;
  const url = asUrl(location);
  if (url === undefined) return location as string;
  if (url.protocol !== 'file:') return undefined;
  const { fileURLToPath } = await nodeModule<typeof import('node:url')>('url');
  return fileURLToPath(url);
}

interface NodeError {
  code?: string;
}

function fileError(path: string, error: unknown): ModelLoadError {
  const code = (error as NodeError).code;
  if (code === 'ENOENT') return new ModelLoadError(path, 'file not found', { cause: error });
  if (code === 'EISDIR') return new ModelLoadError(path, 'is a directory, expected a file', { cause: error });
  return new ModelLoadError(path, error instanceof Error ? error.message : String(error), { cause: error });
}

/** Throws ModelLoadError naming `path` unless it is an existing file. */
export async function assertLocalFile(path: string): Promise<void> {
  const { stat } = await nodeModule<typeof import('node:fs/promises')>('fs/promises');
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (error) {
    throw fileError(path, error);
  }
  if (!isFile) throw new ModelLoadError(path, 'is not a file');
}

/** The bytes of a file path or URL: fs for local files in Node, fetch otherwise. */
export async function readFileBytes(location: FileLocation): Promise<Uint8Array> {
  const path = await localPathOf(location);
  if (path !== undefined) {
    const { readFile } = await nodeModule<typeof import('node:fs/promises')>('fs/promises');
    try {
      const buffer = await readFile(path);
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      throw fileError(path, error);
    }
  }
  const name = describeLocation(location);
  let response: Response;
  try {
    response = await fetch(location);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelLoadError(name, `fetch failed: ${reason}`, { cause: error });
  }
  if (!response.ok) {
    throw new ModelLoadError(name, `HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  return new Uint8Array(await response.arrayBuffer());
}
