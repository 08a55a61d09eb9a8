import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Backend,
  InvalidArgumentError,
  ModelSignatureError,
  NoiseRefiner,
  SiTFlowScheduler,
  SiTPipeline,
  type Tensor,
  tensor,
} from '@noiserefine/core';
import { decodeModel, encodeModel, GraphBuilder, linear, patchify, unpatchify } from '@noiserefine/onnx';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import { type TfjsBackend, tfjsBackend } from '@noiserefine/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrainingModel } from '../pipeline-loader';
import { generateTargets } from '../targets/generate-targets';
import { TargetDataset } from '../targets/target-dataset';
import { writeTinySiTFolder } from '../test-support/sit-folder';
import { sitTrainingModel, type TrainingModel } from '../training-model';
import { MsdTrainer, type MsdTrainingOptions } from './msd-trainer';
import { RefinerNetwork } from './refiner-network';

let root: string;
let pipelineDir: string;
let tfjs: TfjsBackend;
let sit: TrainingModel;
/** The same seeded noises and labels, guided at CFG 2 and at CFG 6. */
let atTwo: TargetDataset;
let atSix: TargetDataset;

const SCALES = [2, 6] as const;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'noiserefine-guidance-'));
  pipelineDir = await writeTinySiTFolder(join(root, 'tiny-sit'));
  tfjs = await tfjsBackend({ engine: 'wasm' });
  sit = await loadTrainingModel(pipelineDir, { backend: onnxruntimeNode() });
  const made: TargetDataset[] = [];
  for (const guidanceScale of SCALES) {
    const outputDir = join(root, `targets-w${guidanceScale}`);
    await generateTargets(sit, {
      outputDir,
      conditions: Array.from({ length: 10 }, (_, label) => ({ label })),
      numSamples: 12,
      chunkSize: 12,
      numInferenceSteps: 6,
      guidance: { guidanceScale, pagScale: 0 },
    });
    made.push(await TargetDataset.open(outputDir));
  }
  [atTwo, atSix] = made as [TargetDataset, TargetDataset];
});

afterAll(async () => {
  await sit.dispose();
  await rm(root, { recursive: true, force: true });
});

const options = (outputDir: string, overrides: Partial<MsdTrainingOptions> = {}): MsdTrainingOptions => ({
  outputDir,
  refiner: { kind: 'lora', rank: 4 },
  guidanceConditioned: true,
  maxSteps: 4,
  numInferenceSteps: 3,
  batchSize: 8,
  learningRate: 1e-2,
  validationSamples: 2,
  checkpointEvery: 2,
  seed: 1,
  ...overrides,
});

async function weights(trainer: MsdTrainer): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, v] of trainer.network.variables) out[name] = Array.from(await v.data());
  return out;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
};

describe('a guidance-conditioned LoRA refiner on tiny-sit, trained on targets at CFG 2 and 6', () => {
  const labels = [3, 8];
  const noise = new Float32Array(2 * 256).map((_, i) => Math.sin(i * 0.61) * 1.2);
  let trainer: MsdTrainer;
  let refinerDir: string;

  /** x̂_T from a loaded refiner on `backend`, at guidance scale w (or none). */
  async function refined(refiner: NoiseRefiner, backend: Backend, w?: number): Promise<Float32Array> {
    const conditioned = await sit.conditioned(labels.map((label) => ({ label })));
    const x = tensor(noise, [2, 4, 8, 8], backend.tensors);
    let out: Tensor | undefined;
    try {
      out = await refiner.refine(x, conditioned.spec, w === undefined ? {} : { guidanceScale: w });
      return Float32Array.from(await out.data());
    } finally {
      out?.dispose();
      x.dispose();
      conditioned.dispose();
    }
  }

  it('trains on both folders, feeding each sample its scale, and exports a refiner that takes guidance_scale', async () => {
    trainer = await MsdTrainer.create(sit, [atTwo, atSix], tfjs, options(join(root, 'run')));
    expect(trainer.dataset.guidanceScales).toEqual([2, 6]);
    // The last 2 samples of each folder are held out.
    expect(trainer.validationIndices).toEqual([10, 11, 22, 23]);
    expect([...trainer.network.variables.keys()]).toEqual(
      expect.arrayContaining(['guidance_embedding.linear.weight', 'guidance_embedding.linear.bias']),
    );
    const losses: number[] = [];
    const result = await trainer.train({ onStep: (r) => losses.push(r.loss) });
    expect(result.step).toBe(4);
    expect(losses.every(Number.isFinite)).toBe(true);
    const projection = await trainer.network.variables.get('guidance_embedding.linear.weight')?.data();
    expect(projection?.some((v) => v !== 0)).toBe(true);

    refinerDir = join(root, 'refiner');
    const metadata = await trainer.exportRefiner(refinerDir);
    expect(metadata).toMatchObject({ guidanceConditioned: true, kind: 'lora', family: 'sit' });
    const config = JSON.parse(await readFile(join(refinerDir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ guidance_conditioned: true, training: { guidance_scales: [2, 6] } });
    const onnx = decodeModel(new Uint8Array(await readFile(join(refinerDir, 'model.onnx'))));
    expect(onnx.graph?.input?.map((i) => i.name)).toContain('guidance_scale');
  });

  it('loads with NoiseRefiner: needs refinerGuidanceScale, and its scale changes the refined noise the same on onnxruntime and tfjs', async () => {
    const ort = onnxruntimeNode();
    const onOrt = await NoiseRefiner.fromPretrained(refinerDir, { backend: ort });
    const onTfjs = await NoiseRefiner.fromPretrained(refinerDir, { backend: tfjs });
    try {
      expect(onOrt.metadata.guidanceConditioned).toBe(true);
      await expect(refined(onOrt, ort)).rejects.toThrow(InvalidArgumentError);
      await expect(refined(onOrt, ort)).rejects.toThrow(/pass refinerGuidanceScale/);

      const [ortTwo, ortSix] = [await refined(onOrt, ort, 2), await refined(onOrt, ort, 6)];
      const [tfjsTwo, tfjsSix] = [await refined(onTfjs, tfjs, 2), await refined(onTfjs, tfjs, 6)];
      expect(maxAbsDiff(ortTwo, noise)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(ortTwo, ortSix)).toBeGreaterThan(1e-5);
      expect(maxAbsDiff(ortTwo, tfjsTwo)).toBeLessThan(1e-4);
      expect(maxAbsDiff(ortSix, tfjsSix)).toBeLessThan(1e-4);

      // The exported (LoRA merged) file computes what the trained network does at each scale.
      const conditioned = await sit.conditioned(labels.map((label) => ({ label })));
      const { feeds, dispose } = await trainer.network.feeds(conditioned.spec, 2, [6, 6]);
      const x = tfjs.tensors.fromData(noise, [2, 4, 8, 8]);
      const trained = await trainer.network.refineValues(x, conditioned.spec, feeds);
      dispose();
      x.dispose();
      conditioned.dispose();
      expect(maxAbsDiff(trained, ortSix)).toBeLessThan(1e-4);
    } finally {
      await onOrt.dispose();
      await onTfjs.dispose();
    }
  });

  it('drives a SiT pipeline through refinerGuidanceScale', async () => {
    const ort = onnxruntimeNode();
    const pipeline = await SiTPipeline.fromPretrained(pipelineDir, { backend: ort });
    const refiner = await NoiseRefiner.fromPretrained(refinerDir, { backend: ort });
    const generate = async (refinerGuidanceScale?: number) => {
      const latents = tensor(noise, [2, 4, 8, 8], ort.tensors);
      try {
        const result = await pipeline.generate({
          classLabel: labels,
          latents,
          numInferenceSteps: 2,
          guidanceScale: 1,
          outputType: 'latent',
          refiner,
          ...(refinerGuidanceScale === undefined ? {} : { refinerGuidanceScale }),
        });
        const values = Float32Array.from(await result.latents.data());
        result.latents.dispose();
        return values;
      } finally {
        latents.dispose();
      }
    };
    try {
      await expect(generate()).rejects.toThrow(/pass refinerGuidanceScale/);
      expect(maxAbsDiff(await generate(2), await generate(6))).toBeGreaterThan(1e-5);
    } finally {
      await refiner.dispose();
      await pipeline.dispose();
      await trainer.dispose();
    }
  });

  it('resumes a conditioned run bit for bit', async () => {
    const fast = { maxSteps: 3, checkpointEvery: 1 };
    const straight = await MsdTrainer.create(
      sit,
      [atTwo, atSix],
      tfjs,
      options(join(root, 'straight'), fast),
    );
    const straightLosses: number[] = [];
    await straight.train({ onStep: (r) => straightLosses.push(r.loss) });

    const dir = join(root, 'resumed');
    const first = await MsdTrainer.create(sit, [atTwo, atSix], tfjs, options(dir, fast));
    const controller = new AbortController();
    const losses: number[] = [];
    await first.train({
      signal: controller.signal,
      onStep: (r) => {
        losses.push(r.loss);
        if (r.step === 2) controller.abort();
      },
    });
    await first.dispose();
    const resumed = await MsdTrainer.create(sit, [atTwo, atSix], tfjs, options(dir, fast));
    expect(resumed.step).toBe(2);
    await resumed.train({ onStep: (r) => losses.push(r.loss) });
    expect(losses).toEqual(straightLosses);
    expect(await weights(resumed)).toEqual(await weights(straight));
    // Other embedding settings make another run.
    await expect(
      MsdTrainer.create(
        sit,
        [atTwo, atSix],
        tfjs,
        options(dir, { ...fast, guidanceEmbedding: { frequencyDim: 64 } }),
      ),
    ).rejects.toThrow(/holds a checkpoint of another training run/);
    await straight.dispose();
    await resumed.dispose();
  });
});

describe('guidance-conditioned training errors and the standalone refiner', () => {
  it('needs targets at two or more scales, and a plain run needs one guidance', async () => {
    await expect(MsdTrainer.create(sit, [atTwo], tfjs, options(join(root, 'one')))).rejects.toThrow(
      /expected target folders made at two or more guidance scales, got 2 only \(CFG 2 in .*targets-w2\)/,
    );
    await expect(MsdTrainer.create(sit, [atTwo, atTwo], tfjs, options(join(root, 'same')))).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(
      MsdTrainer.create(
        sit,
        [atTwo, atSix],
        tfjs,
        options(join(root, 'plain'), { guidanceConditioned: false }),
      ),
    ).rejects.toThrow(
      /with one guidance for an unconditioned refiner, got CFG 2 in .*, CFG 6 in .*--guidance-conditioned/,
    );
  });

  it('says when the denoiser has no timestep embedding to condition', async () => {
    // A denoiser that ignores t: nowhere to add the guidance embedding.
    const g = new GraphBuilder({ name: 'no_time_embedding' });
    const x = g.input('x', 'float32', ['batch', 4, 8, 8]);
    g.input('t', 'float32', ['batch']);
    g.input('y', 'int64', ['batch']);
    const geometry = { patchSize: 1, channels: 4, height: 8, width: 8 };
    const h = linear(g, patchify(g, x, geometry), { name: 'embed', inFeatures: 4, outFeatures: 8 });
    const out = linear(g, g.tanh(h), { name: 'proj', inFeatures: 8, outFeatures: 4 });
    g.output(unpatchify(g, out, geometry), 'velocity');
    const model = await sitTrainingModel({
      backend: onnxruntimeNode(),
      denoiserBytes: encodeModel(g.toModel()),
      scheduler: new SiTFlowScheduler(),
      latentShape: [4, 8, 8],
      numClasses: 10,
      baseModel: 'no-time-embedding',
    });
    try {
      const create = RefinerNetwork.create(model, { kind: 'lora', rank: 1 }, tfjs, {
        guidanceConditioned: true,
      });
      await expect(create).rejects.toThrow(ModelSignatureError);
      await expect(create).rejects.toThrow(
        /guidance-conditioned lora refiner: expected the denoiser to have one timestep embedding .* found none/,
      );
    } finally {
      await model.dispose();
    }
  });

  it('conditions a standalone refiner, which starts at x̂_T = x_T for every scale', async () => {
    const network = await RefinerNetwork.create(
      sit,
      { kind: 'standalone', hiddenSize: 32, depth: 1, numHeads: 2 },
      tfjs,
      { guidanceConditioned: true },
    );
    try {
      expect(network.variables.has('guidance_embedding.linear.weight')).toBe(true);
      const conditioned = await sit.conditioned([{ label: 1 }]);
      const x = tfjs.tensors.fromData(new Float32Array(256).fill(0.5), [1, 4, 8, 8]);
      for (const w of [1, 7]) {
        const { feeds, dispose } = await network.feeds(conditioned.spec, 1, [w]);
        expect(Array.from(await network.refineValues(x, conditioned.spec, feeds))).toEqual(
          new Array(256).fill(0.5),
        );
        dispose();
      }
      await expect(network.feeds(conditioned.spec, 1)).rejects.toThrow(
        /expected 1 guidance scales \(one per sample\), got none/,
      );
      x.dispose();
      conditioned.dispose();
    } finally {
      await network.dispose();
    }
  });
});
