import { InvalidArgumentError } from '@noiserefine/core';
import { encodeTensor } from '../builder/data-type';
import { onnx, type TensorProto } from '../proto';

/** The values of a float32 initializer, whether the file stores them as raw bytes or as float_data. */
export function readFloat32(tensor: TensorProto): Float32Array {
  if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) {
    throw new InvalidArgumentError(
      `initializer "${tensor.name}": expected float32 data, got ONNX data type ${tensor.dataType}`,
    );
  }
  if ((tensor.externalData ?? []).length > 0) {
    throw new InvalidArgumentError(
      `initializer "${tensor.name}": expected its values inside the model, got external data; load the model with its data merged first`,
    );
  }
  const size = (tensor.dims ?? []).reduce((p, d) => p * Number(d), 1);
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== size * 4) {
      throw new InvalidArgumentError(
        `initializer "${tensor.name}": expected ${size * 4} bytes of float32 data, got ${raw.length}`,
      );
    }
    const copy = new Uint8Array(raw);
    return new Float32Array(copy.buffer, 0, size);
  }
  const values = Float32Array.from(tensor.floatData ?? []);
  if (values.length !== size) {
    throw new InvalidArgumentError(
      `initializer "${tensor.name}": expected ${size} float32 values, got ${values.length}`,
    );
  }
  return values;
}

/** A float32 initializer with raw little-endian data. */
export function float32Tensor(name: string, values: Float32Array, dims: readonly number[]): TensorProto {
  return encodeTensor(name, values, dims);
}

/** The same initializer with every value zero, in its own element type (zero bytes are 0 in every float format). */
export function zeroedTensor(tensor: TensorProto): TensorProto {
  const size = (tensor.dims ?? []).reduce((p, d) => p * Number(d), 1);
  const bytesPerValue: Record<number, number> = {
    [onnx.TensorProto.DataType.FLOAT]: 4,
    [onnx.TensorProto.DataType.FLOAT16]: 2,
    [onnx.TensorProto.DataType.BFLOAT16]: 2,
    [onnx.TensorProto.DataType.DOUBLE]: 8,
  };
  const width = bytesPerValue[tensor.dataType ?? 0];
  if (width === undefined) {
    throw new InvalidArgumentError(
      `initializer "${tensor.name}": expected a float tensor to zero, got ONNX data type ${tensor.dataType}`,
    );
  }
  return onnx.TensorProto.create({
    name: tensor.name,
    dims: [...(tensor.dims ?? [])],
    dataType: tensor.dataType,
    rawData: new Uint8Array(size * width),
  });
}
