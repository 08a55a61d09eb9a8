import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvalidArgumentError,
  ModelSignatureError,
  NoiseRefiner,
  ShapeMismatchError,
  tensor,
} from '@noiserefine/core';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import { type TfjsBackend, tfjsBackend } from '@noiserefine/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTargets } from '../targets/generate-targets';
import { TargetDataset } from '../targets/target-dataset';
import { tinySiT, tinyUnet } from '../test-support/tiny-models';
import type { TrainingModel } from '../training-model';
import { MsdTrainer, type MsdTrainingOptions } from './msd-trainer';

let tfjs: TfjsBackend;
let sit: TrainingModel;
let unet: TrainingModel;
let sitTargets: TargetDataset;
let unetTargets: TargetDataset;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'noiserefine-msd-'));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  tfjs = await tfjsBackend({ engine: 'wasm' });
  sit = await tinySiT();
  unet = await tinyUnet();
  const sitDir = await tempDir();
  await generateTargets(sit, {
    outputDir: sitDir,
    conditions: Array.from({ length: 10 }, (_, label) => ({ label })),
    numSamples: 28,
    chunkSize: 8,
    numInferenceSteps: 8,
    guidance: { guidanceScale: 4, pagScale: 0 },
  });
  sitTargets = await TargetDataset.open(sitDir);
  const unetDir = await tempDir();
  await generateTargets(unet, {
    outputDir: unetDir,
    conditions: [{ prompt: 'a red circle' }, { prompt: 'a blue ring' }],
    numSamples: 6,
    numInferenceSteps: 5,
    guidance: { guidanceScale: 5, pagScale: 0 },
  });
  unetTargets = await TargetDataset.open(unetDir);
});

afterAll(async () => {
  await sit.dispose();
  await unet.dispose();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const sitOptions = (outputDir: string, overrides: Partial<MsdTrainingOptions> = {}): MsdTrainingOptions => ({
  outputDir,
  refiner: { kind: 'lora', rank: 4 },
  maxSteps: 5,
  numInferenceSteps: 4,
  batchSize: 8,
  learningRate: 3e-3,
  warmupSteps: 2,
  validationSamples: 4,
  checkpointEvery: 2,
  seed: 3,
  ...overrides,
});

async function weights(trainer: MsdTrainer): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, v] of trainer.network.variables) out[name] = Array.from(await v.data());
  return out;
}

describe('MSD training of a LoRA refiner on tiny-sit', () => {
  let trained: MsdTrainer;

  it('lowers the MSD loss within ten steps', async () => {
    trained = await MsdTrainer.create(
      sit,
      sitTargets,
      tfjs,
      sitOptions(await tempDir(), { maxSteps: 10, learningRate: 1e-2, checkpointEvery: 100 }),
    );
    const losses: number[] = [];
    const result = await trained.train({ onStep: (r) => losses.push(r.loss) });
    expect(result).toMatchObject({ step: 10, interrupted: false });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(0.8 * mean(losses.slice(0, 5)));
    const validation = result.validation;
    expect(validation?.loss).toBeLessThan(validation?.baselineLoss as number);
    await access(validation?.image as string);
  });

  it('exports a refiner whose ONNX gives the same residual on tfjs and onnxruntime-node', async () => {
    const dir = await tempDir();
    const metadata = await trained.exportRefiner(dir);
    expect(metadata).toMatchObject({ family: 'sit', baseModel: 'tiny-sit', kind: 'lora', timestep: 0 });
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ family: 'sit', base_model: 'tiny-sit', latent_shape: [4, 8, 8] });

    const ort = onnxruntimeNode();
    const onOrt = await NoiseRefiner.fromPretrained(dir, { backend: ort });
    const onTfjs = await NoiseRefiner.fromPretrained(dir, { backend: tfjs });
    const labels = [2, 5];
    const noise = new Float32Array(2 * 256).map((_, i) => Math.sin(i * 0.37) * 1.3);
    const residual = async (refiner: NoiseRefiner, backend: typeof ort | TfjsBackend) => {
      const conditioned = await sit.conditioned(labels.map((label) => ({ label })));
      const x = tensor(noise, [2, 4, 8, 8], backend.tensors);
      const g = await refiner.residual(x, conditioned.spec);
      const values = await g.data();
      conditioned.dispose();
      x.dispose();
      g.dispose();
      return values;
    };
    const a = await residual(onOrt, ort);
    const b = await residual(onTfjs, tfjs);
    // The trained (unmerged) network on tfjs agrees with the merged file too.
    const conditioned = await sit.conditioned(labels.map((label) => ({ label })));
    const { feeds, dispose } = await trained.network.feeds(conditioned.spec, 2);
    const x = tfjs.tensors.fromData(noise, [2, 4, 8, 8]);
    const refined = await trained.network.refineValues(x, conditioned.spec, feeds);
    dispose();
    conditioned.dispose();
    x.dispose();
    let parity = 0;
    let merged = 0;
    let rms = 0;
    for (let i = 0; i < a.length; i++) {
      parity = Math.max(parity, Math.abs((a[i] as number) - (b[i] as number)));
      merged = Math.max(merged, Math.abs((refined[i] as number) - (noise[i] as number) - (a[i] as number)));
      rms += (a[i] as number) ** 2;
    }
    expect(Math.sqrt(rms / a.length)).toBeGreaterThan(1e-3);
    expect(parity).toBeLessThan(1e-4);
    expect(merged).toBeLessThan(1e-4);

    expect(() => onOrt.assertCompatible('stable-diffusion', [1, 4, 8, 8])).toThrow(ModelSignatureError);
    expect(() => onOrt.assertCompatible('sit', [1, 4, 16, 16])).toThrow(ShapeMismatchError);
    await onOrt.dispose();
    await onTfjs.dispose();
    await trained.dispose();
  });

  it('resumes after an interruption bit for bit: weights, optimizer state and data order', async () => {
    const straight = await MsdTrainer.create(sit, sitTargets, tfjs, sitOptions(await tempDir()));
    const straightLosses: number[] = [];
    await straight.train({ onStep: (r) => straightLosses.push(r.loss) });

    const dir = await tempDir();
    const first = await MsdTrainer.create(sit, sitTargets, tfjs, sitOptions(dir));
    const controller = new AbortController();
    const losses: number[] = [];
    const stopped = await first.train({
      signal: controller.signal,
      onStep: (r) => {
        losses.push(r.loss);
        if (r.step === 3) controller.abort();
      },
    });
    expect(stopped).toEqual({ step: 3, interrupted: true });
    await first.dispose();

    const resumed = await MsdTrainer.create(sit, sitTargets, tfjs, sitOptions(dir));
    expect(resumed.step).toBe(3);
    await resumed.train({ onStep: (r) => losses.push(r.loss) });
    expect(losses).toEqual(straightLosses);
    expect(resumed.cursor).toEqual(straight.cursor);
    expect(await weights(resumed)).toEqual(await weights(straight));

    await expect(
      MsdTrainer.create(sit, sitTargets, tfjs, sitOptions(dir, { learningRate: 1e-3 })),
    ).rejects.toThrow(/holds a checkpoint of another training run/);
    await straight.dispose();
    await resumed.dispose();
  });
});

describe('other refiners and families', () => {
  it('trains LoRA on a convolutional UNet (prompts, DDIM) and exports a matching file', async () => {
    const trainer = await MsdTrainer.create(unet, unetTargets, tfjs, {
      outputDir: await tempDir(),
      refiner: { kind: 'lora', rank: 2 },
      maxSteps: 3,
      numInferenceSteps: 4,
      batchSize: 2,
      learningRate: 1e-2,
      validationSamples: 2,
    });
    await trainer.train();
    const dir = await tempDir();
    await trainer.exportRefiner(dir);
    const ort = onnxruntimeNode();
    const onOrt = await NoiseRefiner.fromPretrained(dir, { backend: ort });
    expect(onOrt.metadata).toMatchObject({ family: 'stable-diffusion', timestep: 999, kind: 'lora' });
    const conditioned = await unet.conditioned([{ prompt: 'a red circle' }]);
    const noise = new Float32Array(256).map((_, i) => Math.cos(i * 0.21));
    const g = await onOrt.residual(tensor(noise, [1, 4, 8, 8], ort.tensors), conditioned.spec);
    const { feeds, dispose } = await trainer.network.feeds(conditioned.spec, 1);
    const x = tfjs.tensors.fromData(noise, [1, 4, 8, 8]);
    const refined = await trainer.network.refineValues(x, conditioned.spec, feeds);
    const ortValues = await g.data();
    let worst = 0;
    let rms = 0;
    for (let i = 0; i < noise.length; i++) {
      worst = Math.max(
        worst,
        Math.abs((refined[i] as number) - (noise[i] as number) - (ortValues[i] as number)),
      );
      rms += (ortValues[i] as number) ** 2;
    }
    expect(Math.sqrt(rms / noise.length)).toBeGreaterThan(1e-4);
    expect(worst).toBeLessThan(1e-4);
    dispose();
    x.dispose();
    g.dispose();
    conditioned.dispose();
    await onOrt.dispose();
    await trainer.dispose();
  });

  it('trains a standalone refiner and starts from x̂_T = x_T', async () => {
    const trainer = await MsdTrainer.create(
      sit,
      sitTargets,
      tfjs,
      sitOptions(await tempDir(), {
        refiner: { kind: 'standalone', hiddenSize: 32, depth: 1, numHeads: 2 },
        maxSteps: 3,
      }),
    );
    const before = await trainer.validate({ image: false });
    expect(before?.loss).toBeCloseTo(before?.baselineLoss as number, 6);
    const losses: number[] = [];
    await trainer.train({ onStep: (r) => losses.push(r.loss) });
    expect(losses.every(Number.isFinite)).toBe(true);
    const dir = await tempDir();
    expect(await trainer.exportRefiner(dir)).toMatchObject({ kind: 'standalone', family: 'sit' });
    await trainer.dispose();
  });

  it('rejects targets of another model with typed errors', async () => {
    await expect(MsdTrainer.create(unet, sitTargets, tfjs, sitOptions(await tempDir()))).rejects.toThrow(
      ModelSignatureError,
    );
    await expect(
      MsdTrainer.create(sit, sitTargets, tfjs, sitOptions(await tempDir(), { validationSamples: 28 })),
    ).rejects.toThrow(InvalidArgumentError);
  });
});
