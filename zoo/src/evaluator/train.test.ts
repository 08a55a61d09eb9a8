import { decodeModel, getMetadata } from '@noiserefine/onnx';
import { describe, expect, it } from 'vitest';
import { generateDataset } from '../dataset';
import { DEFAULT_AUGMENTATION } from './augment';
import { trainedEvaluatorModel, trainEvaluator, trainingBatch } from './train';

const train = generateDataset({ seed: 0, count: 200 });
const validation = generateDataset({ seed: 0, count: 100, start: 5000 });
const architecture = { imageSize: 16, hiddenSizes: [64], featureDim: 16, numClasses: 10 };

describe('trainingBatch', () => {
  it('depends only on (seed, step): the same twice, another step differs', () => {
    const options = { batchSize: 8, seed: 3, pixels: 768, augmentation: DEFAULT_AUGMENTATION };
    const a = trainingBatch(train, 5, options);
    const b = trainingBatch(train, 5, options);
    expect(Array.from(a.images)).toEqual(Array.from(b.images));
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    const c = trainingBatch(train, 6, options);
    expect(Array.from(c.images)).not.toEqual(Array.from(a.images));
    for (const label of a.labels) expect(label).toBeLessThan(10);
  });
});

describe('trainEvaluator', () => {
  it('lowers the loss, learns well above chance and exports the trained weights', async () => {
    const trained = await trainEvaluator({
      train,
      validation,
      architecture,
      steps: 40,
      batchSize: 32,
      learningRate: 3e-3,
      validateEvery: 20,
      seed: 1,
    });
    expect(trained.history.map((e) => e.step)).toEqual([20, 40]);
    const first = trained.history[0]?.loss as number;
    expect(trained.finalLoss).toBeLessThan(first);
    expect(trained.finalLoss).toBeLessThan(Math.log(10));
    expect(trained.history.at(-1)?.validationAccuracy).toBeGreaterThan(0.2);
    expect(trained.weights.get('head.weight')?.length).toBe(16 * 10);
    const model = decodeModel(trainedEvaluatorModel(trained, { seed: '1' }));
    expect(getMetadata(model)).toMatchObject({ model: 'zoo-evaluator', seed: '1' });
  });

  it('rejects a set whose sizes do not match the architecture', async () => {
    const broken = { ...train, labels: train.labels.subarray(0, 10) };
    await expect(trainEvaluator({ train: broken, architecture, steps: 1 })).rejects.toThrow(
      /expected 200 images of 768 values and 200 labels, got 153600 values and 10 labels/,
    );
  });
});
