import * as tf from '@tensorflow/tfjs-core';
import { float16BitsToFloat32 } from '@noiserefine/core';
import { decodeModel } from '@noiserefine/onnx';
import { expect } from 'vitest';
import { OnnxGraph, type OnnxGraphOptions } from '../onnx/graph-executor';
import { pseudoRandom } from './gradient-check';
import { buildModel, type ModelSpec, type NodeSpec, type TensorSpec, type ValueSpec } from './onnx-model';
import { type ReferenceFeed, runReference } from './reference-runtime';

export interface ParityCase {
  name: string;
  model: ModelSpec;
  feeds: Record<string, ReferenceFeed>;
  /** Absolute tolerance (default 1e-5) plus relative (default 1e-5). */
  atol?: number;
  rtol?: number;
  options?: OnnxGraphOptions;
}

export const floats = (dims: number[], seed: number, scale = 1): ReferenceFeed => ({
  type: 'float32',
  data: pseudoRandom(
    dims.reduce((a, b) => a * b, 1),
    seed,
  ).map((v) => v * scale),
  dims,
});

export const int64s = (values: number[], dims: number[] = [values.length]): ReferenceFeed => ({
  type: 'int64',
  data: BigInt64Array.from(values.map(BigInt)),
  dims,
});

export const bools = (values: boolean[], dims: number[] = [values.length]): ReferenceFeed => ({
  type: 'bool',
  data: Uint8Array.from(values.map((v) => (v ? 1 : 0))),
  dims,
});

function toTf(feed: ReferenceFeed): tf.Tensor {
  if (feed.type === 'float16') return tf.tensor(float16BitsToFloat32(feed.data), feed.dims, 'float32');
  if (feed.type === 'int64') return tf.tensor(Int32Array.from(feed.data, Number), feed.dims, 'int32');
  if (feed.type === 'bool') return tf.tensor(feed.data, feed.dims, 'bool');
  return tf.tensor(feed.data, feed.dims, feed.type);
}

/** Runs a case on onnxruntime-node and on our executor; outputs must agree in shape and value. */
export async function expectParity(c: ParityCase): Promise<void> {
  const bytes = buildModel(c.model);
  const reference = await runReference(bytes, c.feeds);
  const graph = new OnnxGraph(decodeModel(bytes), c.options);
  const feeds = Object.fromEntries(Object.entries(c.feeds).map(([k, f]) => [k, toTf(f)]));
  try {
    const outputs = graph.execute(feeds);
    for (const [name, want] of Object.entries(reference)) {
      const got = outputs[name] as tf.Tensor;
      expect(got.shape, `${c.name}: shape of "${name}"`).toEqual(want.dims);
      const values = Float32Array.from(got.dataSync() as ArrayLike<number>, Number);
      const atol = c.atol ?? 1e-5;
      const rtol = c.rtol ?? 1e-5;
      let worst = 0;
      let at = -1;
      values.forEach((v, i) => {
        const w = want.data[i] as number;
        const excess = Math.abs(v - w) - (atol + rtol * Math.abs(w));
        if (excess > worst || Number.isNaN(v) !== Number.isNaN(w)) {
          worst = Number.isNaN(excess) ? Infinity : excess;
          at = i;
        }
      });
      expect(at, `${c.name}: "${name}" differs at ${at}: got ${values[at]}, expected ${want.data[at]}`).toBe(
        -1,
      );
    }
    tf.dispose(Object.values(outputs));
  } finally {
    tf.dispose(Object.values(feeds));
    graph.dispose();
  }
}

export interface SingleOpOptions {
  outputs?: ValueSpec[];
  opset?: number;
  /** int64 initializers (axes, shapes, pads) by name. */
  ints?: Record<string, number[]>;
  /** Other initializers (weights) by name. */
  initializers?: Record<string, TensorSpec>;
  atol?: number;
  rtol?: number;
  options?: OnnxGraphOptions;
}

/** A one-node model: feeds become graph inputs, `ints` and `initializers` initializers. */
export function singleOpCase(
  name: string,
  node: Omit<NodeSpec, 'outputs'>,
  feeds: Record<string, ReferenceFeed>,
  options: SingleOpOptions = {},
): ParityCase {
  const outputs = options.outputs ?? [{ name: 'y', type: 'float32' }];
  return {
    name,
    model: {
      inputs: Object.entries(feeds).map(([n, f]) => ({ name: n, type: f.type, shape: f.dims })),
      outputs,
      nodes: [{ ...node, outputs: outputs.map((o) => o.name) }],
      initializers: [
        ...Object.entries(options.ints ?? {}).map(([n, values]) => ({
          name: n,
          type: 'int64' as const,
          dims: [values.length],
          values,
        })),
        ...Object.entries(options.initializers ?? {}).map(([n, t]) => ({ ...t, name: n })),
      ],
      opset: options.opset ?? 17,
    },
    feeds,
    ...(options.atol === undefined ? {} : { atol: options.atol }),
    ...(options.rtol === undefined ? {} : { rtol: options.rtol }),
    ...(options.options ? { options: options.options } : {}),
  };
}

/** Fixed pseudo-random float32 initializer values. */
export const weights = (dims: number[], seed: number, scale = 0.5): TensorSpec => ({
  type: 'float32',
  dims,
  values: pseudoRandom(
    dims.reduce((a, b) => a * b, 1),
    seed,
  ).map((v) => v * scale),
});
