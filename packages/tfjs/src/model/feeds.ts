import * as tf from '@tensorflow/tfjs-core';
import {
  float16BitsToFloat32,
  type HostTensor,
  InvalidArgumentError,
  type ModelDType,
  type Tensor,
} from '@noiserefine/core';
import { int64ToInt32, type TfDType } from '../onnx/tensor-proto';
import { TfjsTensor } from '../tensor/tfjs-tensor-backend';

/** The tfjs dtype a model input of this element type is computed in. */
export function computeDType(dtype: ModelDType): TfDType {
  if (dtype === 'bool') return 'bool';
  if (dtype === 'float32' || dtype === 'float16' || dtype === 'float64') return 'float32';
  return 'int32';
}

function hostValues(feed: HostTensor, name: string): Float32Array | Int32Array | Uint8Array {
  const what = `input "${name}"`;
  const data = feed.data;
  switch (feed.dtype) {
    case 'int64':
      return int64ToInt32(data as ArrayLike<number> | BigInt64Array, what);
    case 'float16':
      return float16BitsToFloat32(data as ArrayLike<number>);
    case 'float32':
      return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    case 'bool':
      return Uint8Array.from(data as ArrayLike<number>, (v) => (v ? 1 : 0));
    case 'int32':
    case 'int8':
    case 'uint8':
      return Int32Array.from(data as ArrayLike<number>, (v) => {
        if (!Number.isInteger(v)) throw new InvalidArgumentError(`${what}: expected integers, got ${v}`);
        return v;
      });
    default:
      throw new InvalidArgumentError(`${what}: unsupported host dtype ${String(feed.dtype)}`);
  }
}

/** A host feed as a tfjs tensor of the dtype the model computes that input in. */
export function hostToTf(feed: HostTensor, name: string, target: TfDType): tf.Tensor {
  const values = hostValues(feed, name);
  const size = feed.shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) {
    throw new InvalidArgumentError(
      `input "${name}": ${values.length} values do not fill shape [${feed.shape.join(', ')}]`,
    );
  }
  const natural: TfDType =
    values instanceof Float32Array ? 'float32' : values instanceof Uint8Array ? 'bool' : 'int32';
  const t = tf.tensor(values, [...feed.shape], natural);
  if (natural === target) return t;
  // → bool by comparison: the wasm Cast kernel keeps raw bytes.
  const cast = tf.tidy(() =>
    target === 'bool' ? tf.notEqual(t, tf.scalar(0, t.dtype)) : tf.cast(t, target),
  );
  t.dispose();
  return cast;
}

/** A core Tensor as a tfjs tensor: our own tensors are used in place, others are copied in. */
export async function tensorToTf(x: Tensor, target: TfDType): Promise<{ tensor: tf.Tensor; owned: boolean }> {
  const base = x instanceof TfjsTensor ? x.tensor : tf.tensor(await x.data(), [...x.shape], 'float32');
  const owned = !(x instanceof TfjsTensor);
  if (target === 'float32') return { tensor: base, owned };
  const cast = tf.cast(base, target);
  if (owned) base.dispose();
  return { tensor: cast, owned: true };
}
