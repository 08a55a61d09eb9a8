import { UnsupportedOptionError } from '@noiserefine/core';
import { onnx, type TensorProto } from '../proto';

/** Element types the builder writes; the networks we train only need these. */
export type DataType = 'float32' | 'int64' | 'int32' | 'bool';

export const DATA_TYPES: readonly DataType[] = ['float32', 'int64', 'int32', 'bool'];

const PROTO_TYPES: Record<DataType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

export function toProtoDataType(dtype: DataType): number {
  const code = PROTO_TYPES[dtype];
  if (code === undefined) throw new UnsupportedOptionError('data type', dtype, DATA_TYPES);
  return code;
}

/** Host arrays for each element type (a Uint8Array holds bool, one byte per value). */
export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

/** The element type a host array holds. */
export function dataTypeOf(data: TensorData): DataType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'bool';
}

/**
 * A TensorProto with the values in `raw_data` (little-endian, as ONNX specifies): one
 * encoding for every element type, and the bytes are copied once.
 */
export function encodeTensor(name: string, data: TensorData, dims: readonly number[]): TensorProto {
  const bytes = new Uint8Array(data.byteLength);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: toProtoDataType(dataTypeOf(data)),
    rawData: bytes,
  });
}
