import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostTensor, ModelFeeds, ValueInfo } from '../backend/model';
import { ModelSignatureError, ShapeMismatchError } from '../errors';
import { NoiseRefiner, type RefinerMetadata, refinerConfigJson } from '../refine/refiner';
import { type MockModelSpec, mockBackend } from '../testing/mock-backend';
import { tensor } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import { SiTPipeline } from './sit-pipeline';

const f32 = (name: string, shape: ValueInfo['shape']): ValueInfo => ({ name, dtype: 'float32', shape });
const i64 = (name: string, shape: ValueInfo['shape']): ValueInfo => ({ name, dtype: 'int64', shape });

/** A SiT-like denoiser mock: velocity = label/10 − x. */
const transformer: MockModelSpec = {
  inputs: [f32('x', ['B', 4, 4, 4]), f32('t', ['B']), i64('y', ['B'])],
  outputs: [f32('output', ['B', 4, 4, 4])],
  async run(feeds: ModelFeeds) {
    const x = feeds.x as Tensor;
    const y = Array.from((feeds.y as HostTensor).data as BigInt64Array, Number);
    const v = await x.data();
    const per = v.length / y.length;
    return {
      output: tensor(
        v.map((u, i) => (y[Math.floor(i / per)] as number) / 10 - u),
        x.shape,
      ),
    };
  },
};

/** A refiner mock: residual = 0.5 · label, whatever the noise; records its timestep. */
const refinerTimesteps: number[] = [];
const refinerModel: MockModelSpec = {
  ...transformer,
  run(feeds: ModelFeeds) {
    const x = feeds.x as Tensor;
    const y = Array.from((feeds.y as HostTensor).data as BigInt64Array, Number);
    refinerTimesteps.push(Number((feeds.t as HostTensor).data[0]));
    const per = x.size / y.length;
    return {
      output: tensor(
        Float32Array.from({ length: x.size }, (_, i) => 0.5 * (y[Math.floor(i / per)] as number)),
        x.shape,
      ),
    };
  },
};

const vae: MockModelSpec = {
  inputs: [f32('latent_sample', ['B', 4, 4, 4])],
  outputs: [f32('sample', ['B', 3, 4, 4])],
  run: () => ({ sample: tensor(new Float32Array(3 * 16), [1, 3, 4, 4]) }),
};

const metadata: RefinerMetadata = {
  family: 'sit',
  baseModel: 'mock-sit',
  kind: 'standalone',
  timestep: 0,
  latentShape: [4, 4, 4],
};

async function setup(meta: RefinerMetadata = metadata) {
  const dir = await mkdtemp(join(tmpdir(), 'nr-refiner-'));
  const files: Record<string, string> = {
    'model_index.json': JSON.stringify({ _class_name: 'SiTPipeline' }),
    'transformer/config.json': JSON.stringify({ num_classes: 10, input_size: 4, in_channels: 4 }),
    'transformer/model.onnx': 'mock',
    'scheduler/scheduler_config.json': JSON.stringify({ _class_name: 'SiTFlowScheduler' }),
    'vae_decoder/config.json': JSON.stringify({ scaling_factor: 1 }),
    'vae_decoder/model.onnx': 'mock',
    'refiner/config.json': JSON.stringify(refinerConfigJson(meta)),
    'refiner/model.onnx': 'mock',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const backend = mockBackend({
    'transformer/model.onnx': transformer,
    'vae_decoder/model.onnx': vae,
    'refiner/model.onnx': refinerModel,
  });
  const pipe = await SiTPipeline.fromPretrained(dir, { backend });
  const refiner = await NoiseRefiner.fromPretrained(join(dir, 'refiner'), { backend });
  return { pipe, refiner };
}

const options = {
  classLabel: [1, 4],
  seed: 3,
  numInferenceSteps: 4,
  guidanceScale: 1,
  outputType: 'latent' as const,
};

describe('generate() with a refiner', () => {
  it('strength 0 reproduces Gaussian sampling exactly', async () => {
    const { pipe, refiner } = await setup();
    const plain = await (await pipe.generate(options)).latents.data();
    const refined = await (await pipe.generate({ ...options, refiner, refinerStrength: 0 })).latents.data();
    expect(Array.from(refined)).toEqual(Array.from(plain));
  });

  it('refines once at the noise-end timestep with the cond conditioning, then samples', async () => {
    const { pipe, refiner } = await setup();
    refinerTimesteps.length = 0;
    const gaussian = await pipe.generate({ ...options, outputType: 'latent' });
    const refined = await pipe.generate({ ...options, refiner, refinerStrength: 0.5 });
    expect(refinerTimesteps).toEqual([0]);
    // The same loop from x_T + 0.5·g by hand: g = 0.5·label.
    const noise = await (await import('../random/generator')).randn([2, 4, 4, 4], { seed: 3 }).data();
    const start = noise.map((v, i) => v + 0.5 * 0.5 * (i < 64 ? 1 : 4));
    const manual = await pipe.generate({ ...options, latents: tensor(start, [2, 4, 4, 4]) });
    expect(Array.from(await refined.latents.data())).toEqual(Array.from(await manual.latents.data()));
    expect(Array.from(await refined.latents.data())).not.toEqual(Array.from(await gaussian.latents.data()));
  });

  it('rejects a refiner trained for another family or latent shape', async () => {
    const other = await setup({ ...metadata, family: 'stable-diffusion' });
    await expect(other.pipe.generate({ ...options, refiner: other.refiner })).rejects.toBeInstanceOf(
      ModelSignatureError,
    );
    const shaped = await setup({ ...metadata, latentShape: [4, 8, 8] });
    const error = await shaped.pipe
      .generate({ ...options, refiner: shaped.refiner })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShapeMismatchError);
    expect(String(error)).toMatch(/expected shape \[B, 4, 8, 8\], got \[2, 4, 4, 4\]/);
  });
});
