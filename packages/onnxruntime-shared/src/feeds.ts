/**
 * Core feeds → onnxruntime tensors, converted to each input's declared type.
 * Float32 data of reference tensors is handed over without a copy: core
 * tensors are immutable and the runtime only reads its inputs.
 */
import {
  float16BitsToFloat32,
  float32ToFloat16Bits,
  type HostTensor,
  InvalidArgumentError,
  isHostTensor,
  type ModelFeeds,
  ReferenceTensor,
  UnsupportedCapabilityError,
  type ValueInfo,
} from '@noiserefine/core';
import type { OrtRuntime, OrtTensor } from './runtime';

type FloatDType = 'float32' | 'float16' | 'float64';

export async function toOrtFeeds(
  runtime: OrtRuntime,
  inputs: readonly ValueInfo[],
  feeds: ModelFeeds,
): Promise<Record<string, OrtTensor>> {
  const out: Record<string, OrtTensor> = {};
  for (const input of inputs) {
    const value = feeds[input.name];
    if (value === undefined) continue;
    if (isHostTensor(value)) {
      out[input.name] = hostToOrt(runtime, input, value);
    } else {
      // A reference tensor's live array goes as is; other backends' tensors are read back.
      const values = value instanceof ReferenceTensor ? value.values : await value.data();
      out[input.name] = floatToOrt(runtime, input.dtype as FloatDType, values, value.shape);
    }
  }
  return out;
}

function floatToOrt(
  runtime: OrtRuntime,
  dtype: FloatDType,
  values: Float32Array,
  shape: readonly number[],
): OrtTensor {
  const dims = [...shape];
  if (dtype === 'float16') return new runtime.Tensor('float16', float32ToFloat16Bits(values), dims);
  if (dtype === 'float64') return new runtime.Tensor('float64', Float64Array.from(values), dims);
  return new runtime.Tensor('float32', values, dims);
}

function hostToOrt(runtime: OrtRuntime, input: ValueInfo, host: HostTensor): OrtTensor {
  const dims = [...host.shape];
  switch (input.dtype) {
    case 'float32':
    case 'float16':
    case 'float64': {
      if (input.dtype === 'float16' && host.dtype === 'float16' && host.data instanceof Uint16Array) {
        return new runtime.Tensor('float16', host.data, dims);
      }
      return floatToOrt(runtime, input.dtype, hostFloats(host), host.shape);
    }
    case 'int64':
      return new runtime.Tensor('int64', toBigInt64(input.name, host), dims);
    case 'int32':
      return new runtime.Tensor('int32', typed(Int32Array, input.name, host), dims);
    case 'int8':
      return new runtime.Tensor('int8', typed(Int8Array, input.name, host), dims);
    case 'uint8':
      return new runtime.Tensor('uint8', typed(Uint8Array, input.name, host), dims);
    case 'bool':
      return new runtime.Tensor('bool', typed(Uint8Array, input.name, host), dims);
    default:
      throw new UnsupportedCapabilityError(
        `input "${input.name}" has type ${input.dtype}, which the adapter cannot feed (${describeHost(host)} given)`,
      );
  }
}

/**
 * Float values of a host tensor. A float16 host tensor holds raw bits in a
 * Uint16Array; given as plain numbers, they are taken as values.
 */
function hostFloats(host: HostTensor): Float32Array {
  const { data } = host;
  if (host.dtype === 'float16' && data instanceof Uint16Array) return float16BitsToFloat32(data);
  if (data instanceof Float32Array) return data;
  return Float32Array.from(data as ArrayLike<number>);
}

function toBigInt64(name: string, host: HostTensor): BigInt64Array {
  const { data } = host;
  if (data instanceof BigInt64Array) return data;
  const out = new BigInt64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = BigInt(integerAt(name, data as ArrayLike<number>, i));
  return out;
}

type IntArray = Int32Array | Int8Array | Uint8Array;

function typed<T extends IntArray>(Kind: new (length: number) => T, name: string, host: HostTensor): T {
  const { data } = host;
  if (data instanceof Kind) return data;
  const out = new Kind(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[i] = typeof v === 'bigint' ? Number(v) : integerAt(name, data as ArrayLike<number>, i);
  }
  return out;
}

function integerAt(name: string, data: ArrayLike<number>, i: number): number {
  const v = data[i] as number;
  if (!Number.isInteger(v)) {
    throw new InvalidArgumentError(`input "${name}": expected integers, got ${v} at flat index ${i}`);
  }
  return v;
}

function describeHost(host: HostTensor): string {
  return `a ${host.dtype} HostTensor`;
}
