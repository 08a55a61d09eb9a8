import {
  AbortError,
  InvalidArgumentError,
  type Model,
  type ModelFeeds,
  type RunOptions,
  type Tensor,
  type ValueInfo,
  validateFeeds,
  validateOutputNames,
} from '@noiserefine/core';
import { toOrtFeeds } from './feeds';
import { fromOrtTensor } from './outputs';
import type { OrtRuntime, OrtSession } from './runtime';
import { toValueInfo } from './value-info';

export interface OnnxruntimeModelInit {
  runtime: OrtRuntime;
  session: OrtSession;
  label: string;
  providers: readonly string[];
  freeDimensionOverrides?: Readonly<Record<string, number>>;
  onDispose?: (model: OnnxruntimeModel) => void;
}

export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new AbortError(`${what} was aborted`, { cause: signal.reason });
  }
}

/** A model running in one onnxruntime session. Runs are queued: a session runs one call at a time. */
export class OnnxruntimeModel implements Model {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** The model's path or URL (or a description of its bytes), as messages name it. */
  readonly label: string;
  /** The execution providers the session runs on, after any fallback. */
  readonly executionProviders: readonly string[];
  readonly #runtime: OrtRuntime;
  readonly #outputNames: readonly string[];
  #session: OrtSession | null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #onDispose: ((model: OnnxruntimeModel) => void) | undefined;

  constructor(init: OnnxruntimeModelInit) {
    const overrides = init.freeDimensionOverrides ?? {};
    this.label = init.label;
    this.inputs = init.session.inputMetadata.map((m) => toValueInfo(m, 'input', init.label, overrides));
    this.outputs = init.session.outputMetadata.map((m) => toValueInfo(m, 'output', init.label, overrides));
    this.#outputNames = this.outputs.map((o) => o.name);
    this.executionProviders = [...init.providers];
    this.#runtime = init.runtime;
    this.#session = init.session;
    this.#onDispose = init.onDispose;
  }

  get isDisposed(): boolean {
    return this.#session === null;
  }

  /** The underlying onnxruntime session, for what the Model contract does not cover. */
  get session(): OrtSession {
    return this.#live();
  }

  #live(): OrtSession {
    if (this.#session === null) {
      throw new InvalidArgumentError(`model "${this.label}" was used after dispose()`);
    }
    return this.#session;
  }

  async run(feeds: ModelFeeds, options: RunOptions = {}): Promise<Record<string, Tensor>> {
    const what = `run of model "${this.label}"`;
    this.#live();
    throwIfAborted(options.signal, what);
    validateFeeds(this.inputs, feeds, { model: this.label });
    const names = options.outputs ?? this.#outputNames;
    if (options.outputs) validateOutputNames(this.outputs, names, { model: this.label });
    const ortFeeds = await toOrtFeeds(this.#runtime, this.inputs, feeds);
    const results = await this.#enqueue(async () => {
      throwIfAborted(options.signal, what);
      return this.#live().run(ortFeeds, names);
    });
    throwIfAborted(options.signal, what);
    const out: Record<string, Tensor> = {};
    for (const name of names) {
      const value = results[name];
      if (value !== undefined) out[name] = await fromOrtTensor(name, value, this.label);
    }
    return out;
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async dispose(): Promise<void> {
    const session = this.#session;
    if (session === null) return;
    this.#session = null;
    this.#onDispose?.(this);
    await this.#queue;
    await session.release();
  }
}
