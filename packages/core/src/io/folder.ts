import { ModelLoadError } from '../errors';

/** Reads one file of a folder by name; resolves to null (or undefined) when it does not exist. */
export type FileReader = (fileName: string) => Promise<string | null | undefined>;

/**
 * Where a model or tokenizer folder lives: a directory path (Node), a URL (`file:` in Node,
 * `http(s):` anywhere fetch exists), a reader function, or the files' contents by name.
 */
export type FolderSource = string | URL | FileReader | Readonly<Record<string, string>>;

/** A folder opened for reading: its text files by name, and a location for messages. */
export interface Folder {
  /** How the folder is named in error messages, e.g. "/models/sd21/tokenizer". */
  readonly location: string;
  /** The location of one file in it, for error messages. */
  pathOf(fileName: string): string;
  /** The file's text, or null when the folder has no such file. */
  read(fileName: string): Promise<string | null>;
  /** Whether the file exists, without reading it (model files can be gigabytes). */
  exists(fileName: string): Promise<boolean>;
  /** The file's bytes, or null when the folder has no such file. */
  readBytes(fileName: string): Promise<Uint8Array | null>;
}

function joinPath(dir: string, name: string): string {
  if (dir === '') return name;
  return dir.endsWith('/') || dir.endsWith('\\') ? `${dir}${name}` : `${dir}/${name}`;
}

// A computed specifier keeps browser bundlers from resolving a Node built-in that browsers never reach.
const NODE_FS = ['node', 'fs/promises'].join(':');

interface NodeFs {
  readFile(path: string | URL): Promise<Uint8Array>;
  access(path: string | URL): Promise<void>;
}

async function nodeFileExists(path: string | URL): Promise<boolean> {
  try {
    const fs = (await import(/* @vite-ignore */ NODE_FS)) as NodeFs;
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}

async function urlExists(url: URL): Promise<boolean> {
  try {
    return (await fetch(url, { method: 'HEAD' })).ok;
  } catch {
    return false;
  }
}

async function importNodeFs(shown: string): Promise<NodeFs> {
  try {
    return (await import(/* @vite-ignore */ NODE_FS)) as NodeFs;
  } catch (error) {
    throw new ModelLoadError(
      shown,
      'reading a folder from a path needs Node.js file access; in a browser pass a URL, a reader function, or the file contents',
      { cause: error },
    );
  }
}

async function readNodeBytes(path: string | URL, shown: string): Promise<Uint8Array | null> {
  const fs = await importNodeFs(shown);
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new ModelLoadError(shown, `the file exists but cannot be read (${String(code ?? error)})`, {
      cause: error,
    });
  }
}

async function fetchBytes(url: URL): Promise<Uint8Array | null> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new ModelLoadError(url.href, 'the request failed', { cause: error });
  }
  if (response.status === 404) return null;
  if (!response.ok) {
    throw new ModelLoadError(url.href, `expected HTTP 200, got ${response.status} ${response.statusText}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

const decodeText = (bytes: Uint8Array | null) => (bytes === null ? null : new TextDecoder().decode(bytes));
const encodeText = (text: string | null | undefined) =>
  text == null ? null : new TextEncoder().encode(text);
const readNodeFile = async (path: string | URL, shown: string) =>
  decodeText(await readNodeBytes(path, shown));
const fetchFile = async (url: URL) => decodeText(await fetchBytes(url));

function urlFolder(base: URL, subfolder: string): Folder {
  const dir = new URL(base.href.endsWith('/') ? base.href : `${base.href}/`);
  const folder = subfolder === '' ? dir : new URL(subfolder.endsWith('/') ? subfolder : `${subfolder}/`, dir);
  const fileUrl = (name: string) => new URL(name, folder);
  return {
    location: folder.href,
    pathOf: (name) => fileUrl(name).href,
    read: (name) => {
      const url = fileUrl(name);
      return url.protocol === 'file:' ? readNodeFile(url, url.href) : fetchFile(url);
    },
    exists: (name) => {
      const url = fileUrl(name);
      return url.protocol === 'file:' ? nodeFileExists(url) : urlExists(url);
    },
    readBytes: (name) => {
      const url = fileUrl(name);
      return url.protocol === 'file:' ? readNodeBytes(url, url.href) : fetchBytes(url);
    },
  };
}

/**
 * Opens a folder. `subfolder` mirrors diffusers' `subfolder="tokenizer"` for a pipeline
 * root; file names are always relative to the resulting folder.
 */
export function openFolder(source: FolderSource, subfolder = ''): Folder {
  if (source instanceof URL) return urlFolder(source, subfolder);
  if (typeof source === 'string') {
    if (/^(https?|file):\/\//i.test(source)) return urlFolder(new URL(source), subfolder);
    const dir = subfolder === '' ? source : joinPath(source, subfolder);
    return {
      location: dir,
      pathOf: (name) => joinPath(dir, name),
      read: (name) => readNodeFile(joinPath(dir, name), joinPath(dir, name)),
      exists: (name) => nodeFileExists(joinPath(dir, name)),
      readBytes: (name) => readNodeBytes(joinPath(dir, name), joinPath(dir, name)),
    };
  }
  const prefix = subfolder === '' ? '' : subfolder.endsWith('/') ? subfolder : `${subfolder}/`;
  if (typeof source === 'function') {
    return {
      location: prefix === '' ? '<reader>' : `<reader>/${subfolder}`,
      pathOf: (name) => `${prefix}${name}`,
      read: async (name) => (await source(`${prefix}${name}`)) ?? null,
      exists: async (name) => ((await source(`${prefix}${name}`)) ?? null) !== null,
      readBytes: async (name) => encodeText(await source(`${prefix}${name}`)),
    };
  }
  return {
    location: prefix === '' ? '<in-memory files>' : `<in-memory files>/${subfolder}`,
    pathOf: (name) => `${prefix}${name}`,
    read: async (name) => {
      const key = `${prefix}${name}`;
      return Object.hasOwn(source, key) ? (source[key] ?? null) : null;
    },
    exists: async (name) => Object.hasOwn(source, `${prefix}${name}`),
    readBytes: async (name) => encodeText(source[`${prefix}${name}`]),
  };
}
