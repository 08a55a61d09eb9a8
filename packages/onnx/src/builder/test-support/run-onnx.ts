import * as ort from 'onnxruntime-node';
import type { ModelProto } from '../../proto';
import { encodeModel } from '../../proto';

export interface HostArray {
  data: Float32Array | BigInt64Array;
  dims: readonly number[];
}

/** Runs a built model on onnxruntime-node's CPU provider and returns every output. */
export async function runOnnx(
  model: ModelProto,
  feeds: Readonly<Record<string, HostArray>>,
): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(encodeModel(model), {
    graphOptimizationLevel: 'disabled',
  });
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) {
      inputs[name] = new ort.Tensor(f.data instanceof Float32Array ? 'float32' : 'int64', f.data, [
        ...f.dims,
      ]);
    }
    const results = await session.run(inputs);
    const out: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = { data: t.data as Float32Array, dims: t.dims };
    }
    return out;
  } finally {
    await session.release();
  }
}
