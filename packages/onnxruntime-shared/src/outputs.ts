/**
 * onnxruntime outputs → core tensors on the reference backend. Float32 data on
 * the CPU is wrapped without a copy (the runtime hands each run fresh arrays);
 * other numeric types are converted to float32, the math layer's only type.
 * Outputs a session keeps on a device (preferredOutputLocation) are downloaded
 * and their device memory released.
 */
import {
  float16BitsToFloat32,
  ReferenceTensor,
  referenceBackend,
  type Tensor,
  UnsupportedCapabilityError,
} from '@noiserefine/core';
import type { OrtTensor } from './runtime';

export async function fromOrtTensor(name: string, value: OrtTensor, model: string): Promise<Tensor> {
  const data = value.location === 'cpu' ? value.data : await value.getData(true);
  return new ReferenceTensor(referenceBackend, toFloat32(name, value.type, data, model), [...value.dims]);
}

function toFloat32(name: string, type: string, data: OrtTensor['data'], model: string): Float32Array {
  if (data instanceof Float32Array) return data;
  if (type === 'float16' && data instanceof Uint16Array) return float16BitsToFloat32(data);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
    return out;
  }
  if (type === 'string' || !ArrayBuffer.isView(data)) {
    throw new UnsupportedCapabilityError(
      `model "${model}": output "${name}" has element type ${type}; outputs must be numeric to become tensors`,
    );
  }
  // float16 as a native Float16Array, float64, integers and bool.
  return Float32Array.from(data as unknown as ArrayLike<number>);
}
