import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelLoadError, SiTFlowScheduler, SiTPipeline } from '@noiserefine/core';
import { encodeModel } from '@noiserefine/onnx';
import { tfjsBackend } from '@noiserefine/tfjs';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSiT, type SiTNetworkConfig, TINY_SIT_CONFIG } from '../networks/sit';
import { setGuidanceScale, writeSiTModelFolder } from './sit-model-folder';
import { sampleSiT } from './sit-sampler';

const VAE_DIR = fileURLToPath(new URL('../../models/shared/patch-vae-sd21', import.meta.url));
const NETWORK: SiTNetworkConfig = { ...TINY_SIT_CONFIG, hiddenSize: 16, depth: 1, numHeads: 2 };

/** A network with every parameter set, so guidance and the label matter. */
function nonTrivialNetwork(): Uint8Array {
  const reference = buildSiT(NETWORK);
  const weights = new Map<string, Float32Array>();
  for (const t of reference.graph?.initializer ?? []) {
    const size = (t.dims ?? []).reduce((p: number, d) => p * Number(d), 1);
    weights.set(
      t.name as string,
      Float32Array.from({ length: size }, (_, i) => 0.1 * Math.sin(i * 2.3 + size)),
    );
  }
  return encodeModel(buildSiT(NETWORK, { weights }));
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function writeFolder(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'sit-folder-')), 'tiny-sit');
  dirs.push(dir);
  await writeSiTModelFolder(dir, {
    transformer: nonTrivialNetwork(),
    network: NETWORK,
    guidanceScale: 2.5,
    vaeDir: VAE_DIR,
    training: { steps: 0 },
  });
  return dir;
}

describe('the SiT model folder', () => {
  it('holds the diffusers-style files SiTPipeline reads', async () => {
    const dir = await writeFolder();
    const read = async (file: string) => JSON.parse(await readFile(join(dir, file), 'utf8'));
    expect(await read('model_index.json')).toMatchObject({ _class_name: 'SiTPipeline' });
    const scheduler = await read('scheduler/scheduler_config.json');
    expect(scheduler).toEqual({ _class_name: 'SiTFlowScheduler', solver: 'euler', heun_final_step: 'euler' });
    expect(SiTFlowScheduler.fromConfig(scheduler).config.solver).toBe('euler');
    expect(await read('transformer/config.json')).toMatchObject({ num_classes: 10, guidance_scale: 2.5 });
    expect(await read('vae_decoder/config.json')).toMatchObject({ scaling_factor: 0.18215 });
    expect(await read('training.json')).toEqual({ steps: 0 });
    await setGuidanceScale(dir, 3);
    expect(await read('transformer/config.json')).toMatchObject({ guidance_scale: 3, num_classes: 10 });
  });

  it('keeps what others added to an earlier export when it is written again', async () => {
    const dir = await writeFolder();
    await mkdir(join(dir, 'refiner'));
    await writeFile(join(dir, 'refiner', 'config.json'), '{"rank": 8}');
    await writeFile(join(dir, 'zoo.json'), '{"guidance_scale": 4}');
    await writeSiTModelFolder(dir, {
      transformer: nonTrivialNetwork(),
      network: NETWORK,
      guidanceScale: 5,
      vaeDir: VAE_DIR,
      training: { steps: 1 },
    });
    expect(JSON.parse(await readFile(join(dir, 'refiner', 'config.json'), 'utf8'))).toEqual({ rank: 8 });
    expect(JSON.parse(await readFile(join(dir, 'zoo.json'), 'utf8'))).toEqual({ guidance_scale: 4 });
    expect(JSON.parse(await readFile(join(dir, 'training.json'), 'utf8'))).toEqual({ steps: 1 });
    expect((await readdir(dir)).sort()).toEqual([
      'model_index.json',
      'refiner',
      'scheduler',
      'training.json',
      'transformer',
      'vae_decoder',
      'vae_encoder',
      'zoo.json',
    ]);
  });

  it('loads in SiTPipeline, whose guided samples equal the zoo sampler’s', async () => {
    const dir = await writeFolder();
    const pipeline = await SiTPipeline.fromPretrained(dir, { backend: await tfjsBackend() });
    const labels = [0, 7, 3];
    const result = await pipeline.generate({ classLabel: labels, numInferenceSteps: 3, seed: 11 });
    expect(result.images.map((im) => [im.width, im.height])).toEqual([
      [16, 16],
      [16, 16],
      [16, 16],
    ]);
    const fromPipeline = await result.latents.data();
    result.latents.dispose();
    await pipeline.dispose();

    const session = await ort.InferenceSession.create(join(dir, 'transformer', 'model.onnx'));
    const sample = (guidanceScale: number) =>
      sampleSiT(ort, session, {
        labels,
        nullClass: 10,
        guidanceScale,
        numSteps: 3,
        seed: 11,
        latentShape: [4, 8, 8],
      });
    const fromSampler = await sample(2.5);
    const unguided = await sample(1);
    await session.release();
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
    expect(maxDiff(fromPipeline, fromSampler)).toBeLessThan(1e-4);
    expect(maxDiff(fromSampler, unguided)).toBeGreaterThan(1e-3);
  });

  it('names the missing VAE folder', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'sit-folder-')), 'x');
    dirs.push(dir);
    const written = writeSiTModelFolder(dir, {
      transformer: new Uint8Array(0),
      network: NETWORK,
      guidanceScale: 1,
      vaeDir: join(dir, 'nowhere'),
      training: {},
    });
    await expect(written).rejects.toThrow(ModelLoadError);
  });
});
