import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, ModelLoadError, ShapeMismatchError } from '@noiserefine/core';
import type { Optimizer, OptimizerKind } from './optimizers';

/**
 * A checkpoint directory holds `checkpoint.json` (the manifest) and one `tensors-<id>.bin`
 * (float32, little-endian, concatenated). Both are written to temporary names and renamed
 * into place, data first and manifest last, so a crash leaves either the old checkpoint or
 * the new one, never a mix.
 */
export const CHECKPOINT_FORMAT = 'noiserefine-tfjs-checkpoint';
export const CHECKPOINT_VERSION = 1;
const MANIFEST = 'checkpoint.json';

interface TensorEntry {
  /** "variables/<name>" or "optimizer/<slot>/<name>". */
  key: string;
  shape: number[];
  byteOffset: number;
  byteLength: number;
}

interface Manifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  step: number;
  dataFile: string;
  tensors: TensorEntry[];
  optimizer?: { kind: OptimizerKind; stepCount: number; config: Record<string, number | boolean> };
  metadata?: Record<string, unknown>;
}

export interface SaveCheckpointOptions {
  /** The trained variables, by stable name (e.g. a model's initializer names). */
  variables: ReadonlyMap<string, tf.Variable>;
  optimizer?: Optimizer;
  /** Training step to record (default: the optimizer's step count, else 0). */
  step?: number;
  /** Anything JSON-serialisable to keep with the weights (config, data seed, …). */
  metadata?: Record<string, unknown>;
}

export interface LoadCheckpointOptions {
  variables: ReadonlyMap<string, tf.Variable>;
  optimizer?: Optimizer;
  /** Fail when the checkpoint lacks a variable or holds one not given (default true). */
  strict?: boolean;
}

export interface LoadedCheckpoint {
  step: number;
  metadata: Record<string, unknown> | undefined;
  /** Variables the checkpoint had values for. */
  restored: string[];
}

async function nodeModules() {
  const [fs, path, crypto] = await Promise.all([
    import('node:fs/promises'),
    import('node:path'),
    import('node:crypto'),
  ]);
  return { fs, path, crypto };
}

/** Writes `bytes` to `target` through a temporary file in the same directory, flushed before the rename. */
async function writeAtomically(target: string, bytes: Uint8Array): Promise<void> {
  const { fs, path, crypto } = await nodeModules();
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${crypto.randomUUID()}.tmp`);
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/** Best effort: makes the renames durable (not every platform can fsync a directory). */
async function syncDirectory(dir: string): Promise<void> {
  const { fs } = await nodeModules();
  try {
    const handle = await fs.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Directories cannot be opened for sync on some platforms; the renames are still atomic.
  }
}

function optimizerEntries(
  optimizer: Optimizer,
  names: ReadonlyMap<tf.Variable, string>,
): [string, tf.Tensor][] {
  const entries: [string, tf.Tensor][] = [];
  for (const [slot, perVariable] of optimizer.slots()) {
    for (const [variable, value] of perVariable) {
      const name = names.get(variable);
      if (name === undefined) {
        throw new InvalidArgumentError(
          `the optimizer holds state for variable "${variable.name}", which is not among the checkpoint's variables`,
        );
      }
      entries.push([`optimizer/${slot}/${name}`, value]);
    }
  }
  return entries;
}

/** Saves variables (and optimizer state) to `dir`, atomically. */
export async function saveCheckpoint(dir: string, options: SaveCheckpointOptions): Promise<void> {
  const { fs, path, crypto } = await nodeModules();
  await fs.mkdir(dir, { recursive: true });
  const names = new Map([...options.variables].map(([name, v]) => [v as tf.Variable, name]));
  const tensors: [string, tf.Tensor][] = [
    ...[...options.variables].map(([name, v]): [string, tf.Tensor] => [`variables/${name}`, v]),
    ...(options.optimizer ? optimizerEntries(options.optimizer, names) : []),
  ];
  const entries: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [key, t] of tensors) {
    const values = Float32Array.from((await t.data()) as Float32Array);
    const bytes = new Uint8Array(values.buffer);
    entries.push({ key, shape: [...t.shape], byteOffset: offset, byteLength: bytes.length });
    chunks.push(bytes);
    offset += bytes.length;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  const dataFile = `tensors-${crypto.randomUUID()}.bin`;
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    step: options.step ?? options.optimizer?.stepCount ?? 0,
    dataFile,
    tensors: entries,
    ...(options.optimizer
      ? {
          optimizer: {
            kind: options.optimizer.kind,
            stepCount: options.optimizer.stepCount,
            config: options.optimizer.config(),
          },
        }
      : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
  };
  await writeAtomically(path.join(dir, dataFile), data);
  await writeAtomically(
    path.join(dir, MANIFEST),
    new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
  );
  await syncDirectory(dir);
  // Data files of earlier checkpoints are unreferenced now.
  for (const file of await fs.readdir(dir)) {
    if (file !== dataFile && /^tensors-.*\.bin$/.test(file))
      await fs.rm(path.join(dir, file), { force: true });
  }
}

async function readManifest(dir: string): Promise<Manifest> {
  const { fs, path } = await nodeModules();
  const file = path.join(dir, MANIFEST);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await fs.readFile(file, 'utf8')) as Manifest;
  } catch (error) {
    throw new ModelLoadError(file, `no readable checkpoint manifest (${String(error)})`, { cause: error });
  }
  if (manifest.format !== CHECKPOINT_FORMAT || manifest.version !== CHECKPOINT_VERSION) {
    throw new ModelLoadError(
      file,
      `expected format "${CHECKPOINT_FORMAT}" version ${CHECKPOINT_VERSION}, got "${String(manifest.format)}" version ${String(manifest.version)}`,
    );
  }
  return manifest;
}

/** Restores variables (and optimizer state) saved by saveCheckpoint. */
export async function loadCheckpoint(dir: string, options: LoadCheckpointOptions): Promise<LoadedCheckpoint> {
  const { fs, path } = await nodeModules();
  const manifest = await readManifest(dir);
  const dataPath = path.join(dir, manifest.dataFile);
  const data = new Uint8Array(await fs.readFile(dataPath));
  const byKey = new Map(manifest.tensors.map((e) => [e.key, e]));
  const read = (entry: TensorEntry): Float32Array => {
    if (entry.byteOffset + entry.byteLength > data.length) {
      throw new ModelLoadError(dataPath, `tensor "${entry.key}" runs past the end of the file`);
    }
    return new Float32Array(data.slice(entry.byteOffset, entry.byteOffset + entry.byteLength).buffer);
  };
  const strict = options.strict ?? true;
  const saved = manifest.tensors.filter((e) => e.key.startsWith('variables/')).map((e) => e.key.slice(10));
  if (strict) {
    const given = new Set(options.variables.keys());
    const missing = [...given].filter((n) => !byKey.has(`variables/${n}`));
    const extra = saved.filter((n) => !given.has(n));
    if (missing.length > 0 || extra.length > 0) {
      throw new InvalidArgumentError(
        `checkpoint "${dir}" does not match the variables: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`,
      );
    }
  }
  const restored: string[] = [];
  const assign = (target: tf.Variable, entry: TensorEntry) => {
    if (entry.shape.length !== target.rank || entry.shape.some((d, i) => d !== target.shape[i])) {
      throw new ShapeMismatchError(`checkpoint tensor "${entry.key}"`, [...target.shape], entry.shape);
    }
    tf.tidy(() => target.assign(tf.tensor(read(entry), entry.shape, 'float32')));
  };
  for (const [name, variable] of options.variables) {
    const entry = byKey.get(`variables/${name}`);
    if (!entry) continue;
    assign(variable, entry);
    restored.push(name);
  }
  const optimizer = options.optimizer;
  if (optimizer) {
    if (!manifest.optimizer) throw new InvalidArgumentError(`checkpoint "${dir}" holds no optimizer state`);
    if (manifest.optimizer.kind !== optimizer.kind) {
      throw new InvalidArgumentError(
        `checkpoint "${dir}" holds ${manifest.optimizer.kind} state, the optimizer is ${optimizer.kind}`,
      );
    }
    const slots = new Map<string, Map<tf.Variable, tf.Tensor>>();
    try {
      for (const entry of manifest.tensors) {
        const match = /^optimizer\/([^/]+)\/(.+)$/.exec(entry.key);
        if (!match) continue;
        const [, slot, name] = match as unknown as [string, string, string];
        const variable = options.variables.get(name);
        if (!variable) continue;
        let perVariable = slots.get(slot);
        if (!perVariable) {
          perVariable = new Map();
          slots.set(slot, perVariable);
        }
        if (entry.shape.some((d, i) => d !== variable.shape[i])) {
          throw new ShapeMismatchError(`checkpoint tensor "${entry.key}"`, [...variable.shape], entry.shape);
        }
        perVariable.set(variable, tf.tensor(read(entry), entry.shape, 'float32'));
      }
      optimizer.restore(manifest.optimizer.stepCount, slots);
    } finally {
      for (const perVariable of slots.values()) for (const t of perVariable.values()) t.dispose();
    }
  }
  return { step: manifest.step, metadata: manifest.metadata, restored };
}
