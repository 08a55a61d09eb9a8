import { InvalidArgumentError, ModelLoadError, type ModelSource } from '@noiserefine/core';
import { assertLocalFile, describeLocation, localPathOf, readFileBytes } from './model-files';

/** An external-data file as the runtime takes it. */
export interface ResolvedExternalData {
  path: string;
  data: Uint8Array;
}

/** A model source made ready for InferenceSession.create. */
export interface ResolvedModel {
  /** Names the model in messages: its path or URL, or a description of the bytes. */
  label: string;
  /** A local path the runtime opens itself, or the model's bytes. */
  model: string | Uint8Array;
  externalData?: ResolvedExternalData[];
}

export interface ResolveOptions {
  /**
   * Whether the runtime may open local paths itself (onnxruntime-node): it then
   * finds external data beside the model without it being listed, and the model
   * is not copied through JS memory.
   */
  openLocalPaths: boolean;
}

const ACCEPTED = 'a file path, a URL, model bytes (Uint8Array) or { model, externalData }';

function describeBytes(bytes: Uint8Array): string {
  return `<model bytes, ${bytes.byteLength} B>`;
}

function isLocation(value: unknown): value is string | URL {
  return typeof value === 'string' || value instanceof URL;
}

export async function resolveModelSource(
  source: ModelSource,
  options: ResolveOptions,
): Promise<ResolvedModel> {
  if (source instanceof Uint8Array || isLocation(source)) return resolveModel(source, undefined, options);
  if (typeof source !== 'object' || source === null || !('model' in source)) {
    throw new InvalidArgumentError(`model source: expected ${ACCEPTED}, got ${describeValue(source)}`);
  }
  const { model, externalData } = source;
  if (!(model instanceof Uint8Array) && !isLocation(model)) {
    throw new InvalidArgumentError(
      `model source: expected "model" to be a path, URL or Uint8Array, got ${describeValue(model)}`,
    );
  }
  return resolveModel(model, externalData, options);
}

async function resolveModel(
  model: string | URL | Uint8Array,
  externalData: Extract<ModelSource, { model: unknown }>['externalData'],
  options: ResolveOptions,
): Promise<ResolvedModel> {
  const label = model instanceof Uint8Array ? describeBytes(model) : describeLocation(model);
  const files = externalData ?? [];
  if (files.length === 0 && options.openLocalPaths && !(model instanceof Uint8Array)) {
    const path = await localPathOf(model);
    if (path !== undefined) {
      await assertLocalFile(path);
      return { label, model: path };
    }
  }
  const bytes = model instanceof Uint8Array ? model : await readFileBytes(model);
  if (bytes.byteLength === 0) throw new ModelLoadError(label, 'the model is empty (0 bytes)');
  if (files.length === 0) return { label, model: bytes };
  const resolved = await Promise.all(
    files.map(async (file, i) => {
      if (typeof file?.path !== 'string' || file.path === '') {
        throw new InvalidArgumentError(
          `externalData[${i}] of "${label}": expected { path: string, data }, got ${describeValue(file)}`,
        );
      }
      if (file.data instanceof Uint8Array) return { path: file.path, data: file.data };
      if (!isLocation(file.data)) {
        throw new InvalidArgumentError(
          `externalData[${i}] ("${file.path}") of "${label}": expected data as a Uint8Array, path or URL, got ${describeValue(file.data)}`,
        );
      }
      return { path: file.path, data: await readFileBytes(file.data) };
    }),
  );
  return { label, model: bytes, externalData: resolved };
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object with keys [${Object.keys(value).join(', ')}]`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
