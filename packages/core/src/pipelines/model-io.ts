import { ModelSignatureError } from '../errors';
import { float32ToFloat16Bits } from '../backend/float16';
import type { HostTensor, Model, ValueInfo } from '../backend/model';

/** Formats a model's inputs as "name: dtype [dims]" for error messages. */
export function describeValues(values: readonly ValueInfo[]): string {
  return values.map((v) => `${v.name}: ${v.dtype} [${v.shape.map((d) => d ?? '?').join(', ')}]`).join('; ');
}

/**
 * Checks that a model has every input a family needs; otherwise throws a
 * ModelSignatureError listing what was expected and what the file has.
 */
export function requireInputs(model: Model, required: readonly string[], what: string): void {
  const names = new Set(model.inputs.map((i) => i.name));
  const missing = required.filter((r) => !names.has(r));
  if (missing.length > 0) {
    throw new ModelSignatureError(
      `${what} does not match its family: expected inputs ${required.join(', ')}; missing ${missing.join(', ')}; the model has ${describeValues(model.inputs)}`,
    );
  }
}

/** Picks the first of `candidates` the model outputs, or throws naming what it has. */
export function pickOutput(model: Model, candidates: readonly string[], what: string): string {
  const found = candidates.find((c) => model.outputs.some((o) => o.name === c));
  if (found) return found;
  throw new ModelSignatureError(
    `${what}: expected an output named ${candidates.join(' or ')}; the model has ${describeValues(model.outputs)}`,
  );
}

export function inputInfo(model: Model, name: string): ValueInfo {
  const info = model.inputs.find((i) => i.name === name);
  if (!info)
    throw new ModelSignatureError(`model has no input "${name}"; it has ${describeValues(model.inputs)}`);
  return info;
}

/**
 * Builds a scalar-per-sample input (a timestep) in the dtype and rank the model
 * declares: int64 or int32 of shape [B], or a float32/float16 scalar [] or [B].
 * Exporters differ here, so this is read from metadata, never assumed.
 */
export function scalarFeed(info: ValueInfo, value: number, batch: number): HostTensor {
  const rank = info.shape.length;
  const count = rank === 0 ? 1 : batch;
  const shape = rank === 0 ? [] : [batch];
  switch (info.dtype) {
    case 'int64':
      return { dtype: 'int64', data: new BigInt64Array(count).fill(BigInt(Math.round(value))), shape };
    case 'int32':
      return { dtype: 'int32', data: new Int32Array(count).fill(Math.round(value)), shape };
    case 'float16':
      return { dtype: 'float16', data: float32ToFloat16Bits(new Float32Array(count).fill(value)), shape };
    case 'float32':
      return { dtype: 'float32', data: new Float32Array(count).fill(value), shape };
    default:
      throw new ModelSignatureError(
        `input "${info.name}" has dtype ${info.dtype}; expected int64, int32, float32 or float16 for a timestep`,
      );
  }
}

/** Integer ids (token ids, class labels) in the dtype the model declares (int64 or int32). */
export function idsFeed(info: ValueInfo, ids: readonly number[], shape: readonly number[]): HostTensor {
  if (info.dtype === 'int64')
    return { dtype: 'int64', data: BigInt64Array.from(ids, (v) => BigInt(v)), shape };
  if (info.dtype === 'int32') return { dtype: 'int32', data: Int32Array.from(ids), shape };
  throw new ModelSignatureError(`input "${info.name}" has dtype ${info.dtype}; expected int64 or int32 ids`);
}
