import { encodeModel, getMetadata } from '@noiserefine/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { generateDataset } from '../dataset';
import {
  buildEvaluatorGraph,
  DEFAULT_EVALUATOR_ARCHITECTURE,
  EVALUATOR_INPUT,
  EVALUATOR_OUTPUTS,
} from './network';

const small = { imageSize: 16, hiddenSizes: [32, 16], featureDim: 8, numClasses: 10 };
const images = generateDataset({ seed: 3, count: 4 }).images;

async function run(bytes: Uint8Array) {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ [EVALUATOR_INPUT]: new ort.Tensor('float32', images, [4, 3, 16, 16]) });
    return {
      names: session.outputNames,
      logits: out[EVALUATOR_OUTPUTS.logits] as ort.Tensor,
      features: out[EVALUATOR_OUTPUTS.features] as ort.Tensor,
    };
  } finally {
    await session.release();
  }
}

describe('buildEvaluatorGraph', () => {
  it('outputs logits [B, classes] and unit-length features [B, featureDim] on onnxruntime', async () => {
    const { names, logits, features } = await run(encodeModel(buildEvaluatorGraph(small, { seed: 1 })));
    expect(names).toEqual(['logits', 'features']);
    expect(logits.dims).toEqual([4, 10]);
    expect(features.dims).toEqual([4, 8]);
    const f = features.data as Float32Array;
    for (let n = 0; n < 4; n++) {
      const norm = Math.hypot(...f.subarray(n * 8, (n + 1) * 8));
      expect(norm).toBeCloseTo(1, 5);
    }
  });

  it('rebuilds the same network from its weights, and names its layers like torch modules', async () => {
    const model = buildEvaluatorGraph(small, { seed: 5, metadata: { dataset: 'zoo-shapes' } });
    const weights = new Map(
      (model.graph?.initializer ?? []).map((t) => [
        t.name as string,
        new Float32Array(new Uint8Array(t.rawData as Uint8Array).buffer),
      ]),
    );
    expect([...weights.keys()]).toEqual([
      'layers.0.fc.weight',
      'layers.0.fc.bias',
      'layers.0.norm.weight',
      'layers.0.norm.bias',
      'layers.1.fc.weight',
      'layers.1.fc.bias',
      'layers.1.norm.weight',
      'layers.1.norm.bias',
      'embedding.weight',
      'embedding.bias',
      'head.weight',
      'head.bias',
    ]);
    const rebuilt = buildEvaluatorGraph(small, { weights });
    const [a, b] = await Promise.all([run(encodeModel(model)), run(encodeModel(rebuilt))]);
    expect(Array.from(b.logits.data as Float32Array)).toEqual(Array.from(a.logits.data as Float32Array));
    expect(getMetadata(model)).toMatchObject({ model: 'zoo-evaluator', dataset: 'zoo-shapes' });
  });

  it('rejects a partial set of weights and invalid sizes', () => {
    const weights = new Map([['head.bias', new Float32Array(10)]]);
    expect(() => buildEvaluatorGraph(small, { weights })).toThrow(
      /expected a value for parameter "layers.0.fc.weight"/,
    );
    expect(() => buildEvaluatorGraph({ ...DEFAULT_EVALUATOR_ARCHITECTURE, featureDim: 0 })).toThrow(
      /positive integer sizes/,
    );
  });
});
