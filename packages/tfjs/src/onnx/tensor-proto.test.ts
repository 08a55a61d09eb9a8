import { InvalidArgumentError, UnsupportedOptionError } from '@noiserefine/core';
import { onnx } from '@noiserefine/onnx';
import { describe, expect, it } from 'vitest';
import { decodeTensorProto, int64ToInt32, writeFloatInitializer } from './tensor-proto';

const DT = onnx.TensorProto.DataType;
const raw = (dataType: number, dims: number[], bytes: ArrayBufferView, name = 't') =>
  onnx.TensorProto.create({
    name,
    dataType,
    dims,
    rawData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  });

describe('decodeTensorProto', () => {
  it('reads raw data of every numeric type into float32, int32 or bool', () => {
    expect(decodeTensorProto(raw(DT.DOUBLE, [2], Float64Array.of(0.5, -2)))).toEqual({
      dtype: 'float32',
      shape: [2],
      values: Float32Array.of(0.5, -2),
    });
    expect(decodeTensorProto(raw(DT.FLOAT16, [2], Uint16Array.of(0x3c00, 0xc100))).values).toEqual(
      Float32Array.of(1, -2.5),
    );
    expect(decodeTensorProto(raw(DT.BFLOAT16, [1], Uint16Array.of(0x3fc0))).values).toEqual(
      Float32Array.of(1.5),
    );
    expect(decodeTensorProto(raw(DT.UINT8, [2], Uint8Array.of(3, 250))).values).toEqual(
      Int32Array.of(3, 250),
    );
    expect(decodeTensorProto(raw(DT.INT8, [1], Int8Array.of(-7))).values).toEqual(Int32Array.of(-7));
    expect(decodeTensorProto(raw(DT.INT64, [2], BigInt64Array.of(-5n, 77n)))).toEqual({
      dtype: 'int32',
      shape: [2],
      values: Int32Array.of(-5, 77),
    });
    expect(decodeTensorProto(raw(DT.BOOL, [3], Uint8Array.of(1, 0, 1))).dtype).toBe('bool');
  });

  it('reads the typed fields, float16 bits included', () => {
    const half = onnx.TensorProto.create({ name: 'h', dataType: DT.FLOAT16, dims: [1], int32Data: [0x3800] });
    expect(decodeTensorProto(half).values).toEqual(Float32Array.of(0.5));
    const longs = onnx.TensorProto.create({ name: 'l', dataType: DT.INT64, dims: [2], int64Data: [4, -9] });
    expect(decodeTensorProto(longs).values).toEqual(Int32Array.of(4, -9));
  });

  it('checks the element count against the dims and rejects strings', () => {
    expect(() => decodeTensorProto(raw(DT.FLOAT, [3], Float32Array.of(1, 2)))).toThrow(
      /expected 3 elements for dims \[3\], got 2/,
    );
    const text = onnx.TensorProto.create({
      name: 's',
      dataType: DT.STRING,
      dims: [1],
      stringData: [new Uint8Array(1)],
    });
    expect(() => decodeTensorProto(text)).toThrow(UnsupportedOptionError);
  });

  it('reads external data through the given reader', () => {
    const t = onnx.TensorProto.create({
      name: 'ext',
      dataType: DT.FLOAT,
      dims: [2],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: 'w.bin' },
        { key: 'offset', value: '4' },
        { key: 'length', value: '8' },
      ],
    });
    const file = new Uint8Array(Float32Array.of(9, 1.5, -3).buffer);
    expect(
      decodeTensorProto(t, (location, offset, length) => {
        expect(location).toBe('w.bin');
        return file.subarray(offset, offset + (length ?? 0));
      }).values,
    ).toEqual(Float32Array.of(1.5, -3));
    expect(() => decodeTensorProto(t)).toThrow(/stored in the external file "w.bin"/);
  });
});

describe('int64ToInt32', () => {
  it('saturates the int64 sentinels and rejects other out-of-range values', () => {
    expect(Array.from(int64ToInt32([9223372036854775807n, -9223372036854775808n, 12], 'x'))).toEqual([
      2147483647, -2147483648, 12,
    ]);
    expect(() => int64ToInt32([2147483648n], 'input "ids"')).toThrow(InvalidArgumentError);
    expect(() => int64ToInt32([2147483648n], 'input "ids"')).toThrow(
      /input "ids": int64 value 2147483648 at index 0/,
    );
  });
});

describe('writeFloatInitializer', () => {
  it('stores values in the initializer’s own float type as raw data', () => {
    for (const [type, bytesPer] of [
      [DT.FLOAT, 4],
      [DT.FLOAT16, 2],
      [DT.DOUBLE, 8],
      [DT.BFLOAT16, 2],
    ] as const) {
      const t = onnx.TensorProto.create({ name: 'w', dataType: type, dims: [2], floatData: [0, 0] });
      writeFloatInitializer(t, Float32Array.of(1.5, -0.25));
      expect(t.rawData.length).toBe(2 * bytesPer);
      expect(t.floatData).toEqual([]);
      expect(decodeTensorProto(t).values).toEqual(Float32Array.of(1.5, -0.25));
    }
    const ints = onnx.TensorProto.create({ name: 'i', dataType: DT.INT64, dims: [1] });
    expect(() => writeFloatInitializer(ints, Float32Array.of(1))).toThrow(
      /only float initializers can be written back/,
    );
  });
});
