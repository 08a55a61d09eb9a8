import { float16BitsToFloat32 } from '@noiserefine/core';
import * as ort from 'onnxruntime-node';

export type ReferenceFeed =
  | { type: 'float32'; data: Float32Array; dims: number[] }
  /** float16 as its bit patterns. */
  | { type: 'float16'; data: Uint16Array; dims: number[] }
  | { type: 'int64'; data: BigInt64Array; dims: number[] }
  | { type: 'bool'; data: Uint8Array; dims: number[] }
  | { type: 'int32'; data: Int32Array; dims: number[] };

export interface ReferenceOutput {
  data: Float32Array;
  dims: number[];
  type: string;
}

/** Runs a model on onnxruntime-node's CPU provider: the reference our executor must match. */
export async function runReference(
  model: Uint8Array,
  feeds: Record<string, ReferenceFeed>,
): Promise<Record<string, ReferenceOutput>> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled' });
  try {
    const inputs = Object.fromEntries(
      Object.entries(feeds).map(([name, f]) => [name, new ort.Tensor(f.type, f.data, f.dims)]),
    );
    const results = await session.run(inputs);
    return Object.fromEntries(
      Object.entries(results).map(([name, t]) => {
        const raw = t.data as ArrayLike<number | bigint>;
        const data =
          t.type === 'float16'
            ? float16BitsToFloat32(raw as ArrayLike<number>)
            : Float32Array.from(Array.from(raw, (v) => Number(v)));
        return [name, { data, dims: [...t.dims], type: t.type }];
      }),
    );
  } finally {
    await session.release();
  }
}
