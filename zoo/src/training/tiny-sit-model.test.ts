import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SiTPipeline } from '@noiserefine/core';
import { decodeModel } from '@noiserefine/onnx';
import { OnnxGraph, selectEngine, tfjsBackend } from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { sitConfigFromJson } from '../networks/sit';
import { TINY_SIT_DIR } from './sit-model-folder';

/** Fixed inputs: a smooth latent per row, times across [0, 1], every class and the null class. */
function fixedInputs(batch: number) {
  const x = Float32Array.from({ length: batch * 256 }, (_, i) => Math.sin(i * 0.11) * 1.3);
  const t = Float32Array.from({ length: batch }, (_, i) => i / (batch - 1));
  const y = Int32Array.from({ length: batch }, (_, i) => i % 11);
  return { x, t, y };
}

// The shipped model is committed (scripts/train-sit.ts exports it); a missing one fails.
describe('the shipped tiny-sit model', () => {
  it('is small, documented, and declares the network it holds', async () => {
    const config = JSON.parse(await readFile(join(TINY_SIT_DIR, 'transformer', 'config.json'), 'utf8'));
    const network = sitConfigFromJson(config, 'transformer/config.json');
    expect(network).toMatchObject({ inputSize: 8, inChannels: 4, numClasses: 10 });
    expect(config.guidance_scale).toBeGreaterThan(1);
    expect((await stat(join(TINY_SIT_DIR, 'transformer', 'model.onnx'))).size).toBeLessThan(4 * 2 ** 20);
    const training = JSON.parse(await readFile(join(TINY_SIT_DIR, 'training.json'), 'utf8'));
    expect(training.steps).toBe(training.config.totalSteps);
    expect(training.finalEvalLoss.ema).toBeLessThan(1);
  });

  it('runs to the same velocity on tfjs and onnxruntime (within 1e-4)', async () => {
    const batch = 12;
    const { x, t, y } = fixedInputs(batch);
    const file = join(TINY_SIT_DIR, 'transformer', 'model.onnx');
    const session = await ort.InferenceSession.create(file);
    const fromOrt = await session.run({
      x: new ort.Tensor('float32', x, [batch, 4, 8, 8]),
      t: new ort.Tensor('float32', t, [batch]),
      y: new ort.Tensor('int64', BigInt64Array.from(y, BigInt), [batch]),
    });
    await session.release();

    await selectEngine();
    const graph = new OnnxGraph(decodeModel(await readFile(file)));
    const out = tf.tidy(
      () =>
        graph.execute({
          x: tf.tensor(x, [batch, 4, 8, 8]),
          t: tf.tensor(t, [batch]),
          y: tf.tensor(y, [batch], 'int32'),
        }).output as tf.Tensor,
    );
    const fromTfjs = (await out.data()) as Float32Array;
    out.dispose();
    graph.dispose();
    const ortValues = fromOrt.output!.data as Float32Array;
    expect(Math.max(...ortValues.map(Math.abs))).toBeGreaterThan(0.1);
    expect(Math.max(...ortValues.map((v, i) => Math.abs(v - (fromTfjs[i] as number))))).toBeLessThan(1e-4);
  });

  it('loads in SiTPipeline and generates images', async () => {
    const pipeline = await SiTPipeline.fromPretrained(TINY_SIT_DIR, { backend: await tfjsBackend() });
    expect(pipeline.config).toMatchObject({ numClasses: 10, inputSize: 8, inChannels: 4, cfgChannels: null });
    const { images, latents } = await pipeline.generate({
      classLabel: [2, 5],
      numInferenceSteps: 4,
      seed: 1,
    });
    latents.dispose();
    await pipeline.dispose();
    expect(images.map((im) => im.data.length)).toEqual([16 * 16 * 3, 16 * 16 * 3]);
  });
});
