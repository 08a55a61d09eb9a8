import {
  float16BitsToFloat32,
  float32ToFloat16Bits,
  InvalidArgumentError,
  type ModelDType,
  UnsupportedOptionError,
} from '@noiserefine/core';
import { onnx, type TensorProto } from '@noiserefine/onnx';

const DT = onnx.TensorProto.DataType;

/** The three element types tfjs computes with. */
export type TfDType = 'float32' | 'int32' | 'bool';

/** A decoded tensor in host memory, converted to what tfjs can hold. */
export interface HostArray {
  readonly dtype: TfDType;
  readonly shape: number[];
  readonly values: Float32Array | Int32Array | Uint8Array;
}

/** protobufjs gives int64 fields as Long objects (or numbers when small). */
export type Int64Like = number | bigint | { toString(): string };

export const ONNX_DTYPE_NAMES: Record<number, ModelDType | undefined> = {
  [DT.FLOAT]: 'float32',
  [DT.FLOAT16]: 'float16',
  [DT.DOUBLE]: 'float64',
  [DT.INT64]: 'int64',
  [DT.INT32]: 'int32',
  [DT.INT8]: 'int8',
  [DT.UINT8]: 'uint8',
  [DT.BOOL]: 'bool',
  [DT.STRING]: 'string',
};

/** The tfjs dtype an ONNX element type is computed in. */
export function tfDTypeOf(onnxType: number, what: string): TfDType {
  switch (onnxType) {
    case DT.FLOAT:
    case DT.FLOAT16:
    case DT.DOUBLE:
    case DT.BFLOAT16:
      return 'float32';
    case DT.INT8:
    case DT.UINT8:
    case DT.INT16:
    case DT.UINT16:
    case DT.INT32:
    case DT.UINT32:
    case DT.INT64:
    case DT.UINT64:
      return 'int32';
    case DT.BOOL:
      return 'bool';
    default:
      throw new UnsupportedOptionError(
        'ONNX element type',
        DT[onnxType] ?? onnxType,
        'numeric and bool types',
        {
          context: what,
        },
      );
  }
}

export const isFloatType = (onnxType: number): boolean =>
  onnxType === DT.FLOAT || onnxType === DT.FLOAT16 || onnxType === DT.DOUBLE || onnxType === DT.BFLOAT16;

export function toBigInt(v: Int64Like): bigint {
  return typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : BigInt(v.toString());
}

export function toNumber(v: Int64Like | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : Number(toBigInt(v));
}

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const SENTINEL = 2n ** 53n;

/**
 * int64 → int32 (tfjs has no int64). Values near ±2⁶³ are "to the end" sentinels
 * (Slice ends, Clip bounds) and saturate; any other value outside int32 is an error.
 */
export function int64ToInt32(values: ArrayLike<Int64Like> | BigInt64Array, what: string): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = toBigInt(values[i] as Int64Like);
    if (v >= BigInt(INT32_MIN) && v <= BigInt(INT32_MAX)) out[i] = Number(v);
    else if (v >= SENTINEL) out[i] = INT32_MAX;
    else if (v <= -SENTINEL) out[i] = INT32_MIN;
    else {
      throw new InvalidArgumentError(
        `${what}: int64 value ${v} at index ${i} does not fit int32 (tfjs has no int64); expected a value in [${INT32_MIN}, ${INT32_MAX}]`,
      );
    }
  }
  return out;
}

/** A fresh, exactly sized buffer (protobuf bytes may be Node Buffers viewing a shared pool). */
function aligned(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer as ArrayBuffer;
}

function fromBytes(onnxType: number, bytes: Uint8Array, what: string): HostArray['values'] {
  const buf = aligned(bytes);
  switch (onnxType) {
    case DT.FLOAT:
      return new Float32Array(buf);
    case DT.DOUBLE:
      return Float32Array.from(new Float64Array(buf));
    case DT.FLOAT16:
      return float16BitsToFloat32(new Uint16Array(buf));
    case DT.BFLOAT16:
      return bfloat16ToFloat32(new Uint16Array(buf));
    case DT.INT8:
      return Int32Array.from(new Int8Array(buf));
    case DT.UINT8:
      return Int32Array.from(new Uint8Array(buf));
    case DT.INT16:
      return Int32Array.from(new Int16Array(buf));
    case DT.UINT16:
      return Int32Array.from(new Uint16Array(buf));
    case DT.INT32:
      return new Int32Array(buf);
    case DT.UINT32:
      return int64ToInt32(Array.from(new Uint32Array(buf), BigInt), what);
    case DT.INT64:
      return int64ToInt32(new BigInt64Array(buf), what);
    case DT.UINT64:
      return int64ToInt32(new BigUint64Array(buf) as unknown as BigInt64Array, what);
    case DT.BOOL:
      return new Uint8Array(buf);
    default:
      tfDTypeOf(onnxType, what);
      throw new InvalidArgumentError(`${what}: cannot decode element type ${onnxType}`);
  }
}

function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const u = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) u[i] = (bits[i] as number) << 16;
  return new Float32Array(u.buffer);
}

function fromTypedFields(t: TensorProto, what: string): HostArray['values'] {
  const type = t.dataType;
  switch (type) {
    case DT.FLOAT:
      return Float32Array.from(t.floatData);
    case DT.DOUBLE:
      return Float32Array.from(t.doubleData);
    case DT.FLOAT16:
      return float16BitsToFloat32(Uint16Array.from(t.int32Data));
    case DT.BFLOAT16:
      return bfloat16ToFloat32(Uint16Array.from(t.int32Data));
    case DT.INT8:
    case DT.UINT8:
    case DT.INT16:
    case DT.UINT16:
    case DT.INT32:
      return Int32Array.from(t.int32Data);
    case DT.BOOL:
      return Uint8Array.from(t.int32Data);
    case DT.INT64:
      return int64ToInt32(t.int64Data as Int64Like[], what);
    case DT.UINT32:
    case DT.UINT64:
      return int64ToInt32(t.uint64Data as Int64Like[], what);
    default:
      tfDTypeOf(type, what);
      throw new InvalidArgumentError(`${what}: cannot decode element type ${type}`);
  }
}

/** Reads the bytes of an initializer stored outside the model file. */
export type ExternalDataReader = (location: string, offset: number, length: number | undefined) => Uint8Array;

function externalBytes(t: TensorProto, read: ExternalDataReader | undefined, what: string): Uint8Array {
  const entries = new Map(t.externalData.map((e) => [e.key, e.value]));
  const location = entries.get('location');
  if (!location) throw new InvalidArgumentError(`${what}: external data entry has no "location"`);
  if (!read) {
    throw new InvalidArgumentError(
      `${what}: weights are stored in the external file "${location}"; pass it as externalData or load the model from its path`,
    );
  }
  const offset = Number(entries.get('offset') ?? 0);
  const length = entries.has('length') ? Number(entries.get('length')) : undefined;
  return read(location, offset, length);
}

/** Decodes an ONNX TensorProto (raw, typed-field or external storage) into tfjs-ready host data. */
export function decodeTensorProto(t: TensorProto, readExternal?: ExternalDataReader): HostArray {
  const what = `tensor "${t.name}"`;
  const dtype = tfDTypeOf(t.dataType, what);
  const shape = t.dims.map((d) => toNumber(d as Int64Like));
  const size = shape.reduce((a, b) => a * b, 1);
  let values: HostArray['values'];
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    values = fromBytes(t.dataType, externalBytes(t, readExternal, what), what);
  } else if (t.rawData && t.rawData.length > 0) {
    values = fromBytes(t.dataType, t.rawData, what);
  } else {
    values = fromTypedFields(t, what);
  }
  if (values.length !== size) {
    throw new InvalidArgumentError(
      `${what}: expected ${size} elements for dims [${shape.join(', ')}], got ${values.length}`,
    );
  }
  return { dtype, shape, values };
}

/**
 * Stores new float values into an initializer in place, in its own element type
 * (float16 stays float16), as inline raw data.
 */
export function writeFloatInitializer(t: TensorProto, values: Float32Array): void {
  let bytes: Uint8Array;
  switch (t.dataType) {
    case DT.FLOAT:
      bytes = new Uint8Array(Float32Array.from(values).buffer);
      break;
    case DT.FLOAT16:
      bytes = new Uint8Array(float32ToFloat16Bits(values).buffer);
      break;
    case DT.DOUBLE:
      bytes = new Uint8Array(Float64Array.from(values).buffer);
      break;
    case DT.BFLOAT16:
      bytes = new Uint8Array(float32ToBfloat16(values).buffer);
      break;
    default:
      throw new InvalidArgumentError(
        `initializer "${t.name}": only float initializers can be written back, this one has element type ${DT[t.dataType] ?? t.dataType}`,
      );
  }
  t.rawData = bytes;
  t.floatData = [];
  t.doubleData = [];
  t.int32Data = [];
  t.externalData = [];
  t.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
}

function float32ToBfloat16(values: Float32Array): Uint16Array {
  const u = new Uint32Array(Float32Array.from(values).buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i] as number;
    // Round to nearest even on the dropped 16 bits.
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}
