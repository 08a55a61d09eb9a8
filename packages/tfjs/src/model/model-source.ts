import {
  type ExternalDataFile,
  InvalidArgumentError,
  ModelLoadError,
  type ModelSource,
} from '@noiserefine/core';
import { decodeModel, type ModelProto, onnx, type TensorProto } from '@noiserefine/onnx';
import type { ExternalDataReader } from '../onnx/tensor-proto';

/** A decoded model with everything needed to read its initializers. */
export interface ResolvedModel {
  readonly proto: ModelProto;
  /** A path, URL or "model bytes", for messages. */
  readonly name: string;
  readonly readExternal: ExternalDataReader;
}

type Location = string | URL;

const isRemote = (where: Location): boolean => /^(https?|blob|data):/i.test(String(where));

async function readLocation(where: Location): Promise<Uint8Array> {
  if (isRemote(where)) {
    const response = await fetch(where);
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  }
  const { readFile } = await import('node:fs/promises');
  return new Uint8Array(await readFile(where instanceof URL ? where : String(where)));
}

/** Resolves an external data location against the model's own location. */
async function siblingOf(model: Location, location: string): Promise<Location> {
  if (model instanceof URL || isRemote(model)) return new URL(location, model);
  const path = await import('node:path');
  return path.join(path.dirname(String(model)), location);
}

function externalLocations(proto: ModelProto): Set<string> {
  const locations = new Set<string>();
  for (const t of (proto.graph?.initializer ?? []) as TensorProto[]) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const entry = t.externalData.find((e) => e.key === 'location');
    if (entry?.value) locations.add(entry.value);
  }
  return locations;
}

/** Reads a ModelSource: bytes, a path, a URL, or a model with external weight files. */
export async function resolveModelSource(source: ModelSource): Promise<ResolvedModel> {
  const spec =
    source instanceof Uint8Array || typeof source === 'string' || source instanceof URL
      ? { model: source }
      : source;
  const where = spec.model;
  const name = where instanceof Uint8Array ? 'model bytes' : String(where);
  let bytes: Uint8Array;
  try {
    bytes = where instanceof Uint8Array ? where : await readLocation(where);
  } catch (error) {
    throw new ModelLoadError(
      name,
      `the file could not be read (${error instanceof Error ? error.message : String(error)})`,
      {
        cause: error,
      },
    );
  }
  let proto: ModelProto;
  try {
    proto = decodeModel(bytes);
  } catch (error) {
    throw new ModelLoadError(
      name,
      `not a valid ONNX protobuf (${error instanceof Error ? error.message : String(error)})`,
      {
        cause: error,
      },
    );
  }
  const files = new Map<string, Uint8Array>();
  const given = new Map<string, ExternalDataFile>((spec.externalData ?? []).map((f) => [f.path, f]));
  for (const location of externalLocations(proto)) {
    const file = given.get(location);
    try {
      if (file)
        files.set(location, file.data instanceof Uint8Array ? file.data : await readLocation(file.data));
      else if (!(where instanceof Uint8Array))
        files.set(location, await readLocation(await siblingOf(where, location)));
    } catch (error) {
      throw new ModelLoadError(name, `external data "${location}" could not be read (${String(error)})`, {
        cause: error,
      });
    }
  }
  const readExternal: ExternalDataReader = (location, offset, length) => {
    const data = files.get(location);
    if (!data) {
      throw new ModelLoadError(
        name,
        `weights are stored in the external file "${location}"; pass it in externalData or load the model from its path`,
      );
    }
    const end = length === undefined ? data.length : offset + length;
    if (end > data.length) {
      throw new InvalidArgumentError(
        `external data "${location}": expected at least ${end} bytes, the file has ${data.length}`,
      );
    }
    return data.subarray(offset, end);
  };
  return { proto, name, readExternal };
}
