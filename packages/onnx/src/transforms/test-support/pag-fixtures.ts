import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { encodeModel, type ModelProto } from '../../proto';

export interface TensorRecord {
  dtype: 'float32' | 'int64';
  shape: number[];
  data: number[];
}

/** A record written by fixtures/make_pag_fixtures.py. */
export interface PagFixture {
  description: string;
  inputs: Record<string, TensorRecord>;
  outputName: string;
  normal: TensorRecord;
  selfAttention: string[];
  crossAttention: string[];
  cases: { appliedLayers: string[]; perturbedModules: string[]; maxChange: number; output: TensorRecord }[];
}

const FIXTURES = new URL('../../../fixtures/', import.meta.url);

export function loadPagFixture(name: 'pag-unet' | 'pag-dit'): { bytes: Uint8Array; record: PagFixture } {
  return {
    bytes: new Uint8Array(readFileSync(new URL(`${name}.onnx`, FIXTURES))),
    record: JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as PagFixture,
  };
}

/** Runs a model on onnxruntime-node (CPU, graph optimisations off) and returns one output. */
export async function runModel(
  model: ModelProto | Uint8Array,
  inputs: Readonly<Record<string, TensorRecord>>,
  outputName: string,
): Promise<Float32Array> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(inputs)) {
      feeds[name] =
        t.dtype === 'int64'
          ? new ort.Tensor('int64', BigInt64Array.from(t.data.map((v) => BigInt(v))), t.shape)
          : new ort.Tensor('float32', Float32Array.from(t.data), t.shape);
    }
    const results = await session.run(feeds);
    const out = results[outputName];
    if (!out) throw new Error(`model has no output "${outputName}"`);
    return out.data as Float32Array;
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < actual.length; i++)
    max = Math.max(max, Math.abs((actual[i] as number) - (expected[i] as number)));
  return max;
}
