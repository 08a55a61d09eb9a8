import { ModelLoadError } from '../errors';
import { type Folder, type FolderSource, openFolder } from '../io/folder';

/**
 * A pretrained pipeline folder — a directory (Node), a URL, a reader function or in-memory
 * files — with files named as diffusers and optimum lay them out. Model files are not read
 * here: their paths go to the backend, which streams them.
 */
export class ModelFolder {
  readonly #folder: Folder;

  constructor(
    readonly source: FolderSource,
    readonly subfolder = '',
  ) {
    this.#folder = openFolder(source, subfolder);
  }

  get location(): string {
    return this.#folder.location;
  }

  /** Full path or URL of a file inside the folder. */
  resolve(relativePath: string): string {
    return this.#folder.pathOf(relativePath);
  }

  has(relativePath: string): Promise<boolean> {
    return this.#folder.exists(relativePath);
  }

  /** Throws ModelLoadError naming the file when the folder lacks it. */
  async require(relativePath: string, what = 'file'): Promise<void> {
    if (!(await this.has(relativePath))) {
      throw new ModelLoadError(this.resolve(relativePath), `the ${what} is missing`);
    }
  }

  async readText(relativePath: string): Promise<string> {
    const text = await this.#folder.read(relativePath);
    if (text === null) throw new ModelLoadError(this.resolve(relativePath), 'the file is missing');
    return text;
  }

  async readBytes(relativePath: string): Promise<Uint8Array> {
    const bytes = await this.#folder.readBytes(relativePath);
    if (bytes === null) throw new ModelLoadError(this.resolve(relativePath), 'the file is missing');
    return bytes;
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
}
