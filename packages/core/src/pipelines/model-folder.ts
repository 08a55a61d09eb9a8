import { ModelLoadError } from '../errors';

/**
 * A pretrained model folder: a filesystem directory (Node) or a base URL
 * (browsers, or any fetch-able location). Files are named relative to it,
 * exactly as diffusers and optimum lay them out.
 */
export class ModelFolder {
  readonly #isUrl: boolean;

  constructor(readonly location: string) {
    this.#isUrl = /^(https?|file|blob):/.test(location);
  }

  /** Full path or URL of a file inside the folder. */
  resolve(relativePath: string): string {
    const base = this.location.replace(/\/+$/, '');
    return `${base}/${relativePath}`;
  }

  /** Whether the folder serves this file (false rather than throwing). */
  async has(relativePath: string): Promise<boolean> {
    const where = this.resolve(relativePath);
    if (this.#isUrl) {
      try {
        const response = await fetch(where, { method: 'HEAD' });
        return response.ok;
      } catch {
        return false;
      }
    }
    const { access } = await import('node:fs/promises');
    try {
      await access(where);
      return true;
    } catch {
      return false;
    }
  }

  async readBytes(relativePath: string): Promise<Uint8Array> {
    const where = this.resolve(relativePath);
    try {
      if (this.#isUrl) {
        const response = await fetch(where);
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return new Uint8Array(await response.arrayBuffer());
      }
      const { readFile } = await import('node:fs/promises');
      return new Uint8Array(await readFile(where));
    } catch (error) {
      throw new ModelLoadError(where, `the file is missing or unreadable (${(error as Error).message})`, {
        cause: error,
      });
    }
  }

  async readText(relativePath: string): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(relativePath));
  }

  /** Reads and parses a JSON file; a parse failure names the file. */
  async readJson<T = Record<string, unknown>>(relativePath: string): Promise<T> {
    const text = await this.readText(relativePath);
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new ModelLoadError(this.resolve(relativePath), `invalid JSON (${(error as Error).message})`, {
        cause: error,
      });
    }
  }

  /** A sub-folder (e.g. "unet"). */
  sub(name: string): ModelFolder {
    return new ModelFolder(this.resolve(name));
  }
}
