import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, UnsupportedOptionError } from '@noiserefine/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinySiT, tinyUnet } from '../test-support/tiny-models';
import type { TrainingModel } from '../training-model';
import { type GenerateTargetsOptions, generateTargets, sampleNoise } from './generate-targets';
import { TargetDataset } from './target-dataset';
import { parseShard } from './target-format';

let sit: TrainingModel;
let unet: TrainingModel;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'noiserefine-targets-'));
  dirs.push(dir);
  return dir;
}

async function folderBytes(dir: string): Promise<Record<string, string>> {
  const files = (await readdir(dir)).filter((f) => !f.startsWith('.')).sort();
  return Object.fromEntries(
    await Promise.all(
      files.map(async (f) => [f, (await readFile(join(dir, f))).toString('base64')] as const),
    ),
  );
}

beforeAll(async () => {
  sit = await tinySiT();
  unet = await tinyUnet();
});

afterAll(async () => {
  await sit.dispose();
  await unet.dispose();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const sitOptions = (outputDir: string): GenerateTargetsOptions => ({
  outputDir,
  conditions: [{ label: 1 }, { label: 4 }, { label: 7 }],
  numSamples: 10,
  chunkSize: 4,
  batchSize: 3,
  numInferenceSteps: 6,
  guidance: { guidanceScale: 4, pagScale: 0 },
  seed: 5,
});

describe('generateTargets', () => {
  it('two shards write exactly the bytes one machine writes', async () => {
    const one = await tempDir();
    const result = await generateTargets(sit, sitOptions(one));
    expect(result.written).toEqual([0, 1, 2]);
    const two = await tempDir();
    const first = await generateTargets(sit, { ...sitOptions(two), shard: { index: 0, count: 2 } });
    const second = await generateTargets(sit, { ...sitOptions(two), shard: { index: 1, count: 2 } });
    expect([first.written, second.written]).toEqual([[0, 2], [1]]);
    expect(await folderBytes(two)).toEqual(await folderBytes(one));
  });

  it('stores seeded noise and guided targets that the dataset reads back', async () => {
    const dir = await tempDir();
    await generateTargets(sit, sitOptions(dir));
    const data = await TargetDataset.open(dir);
    expect(data.size).toBe(10);
    expect(data.condition(4)).toEqual({ label: 4 });
    expect(data.gatherNoises([9])).toEqual(sampleNoise(5, 9, 256));
    expect(sampleNoise(6, 9, 256)).not.toEqual(sampleNoise(5, 9, 256));
    // The guidance scale moves the targets.
    const weaker = await tempDir();
    await generateTargets(sit, { ...sitOptions(weaker), guidance: { guidanceScale: 1.5, pagScale: 0 } });
    const a = data.gatherTargets([0]);
    const b = (await TargetDataset.open(weaker)).gatherTargets([0]);
    expect(a.some((v, i) => Math.abs(v - (b[i] as number)) > 1e-3)).toBe(true);
  });

  it('resumes: only unfinished chunks are generated again, with the same bytes', async () => {
    const dir = await tempDir();
    await generateTargets(sit, sitOptions(dir));
    const before = await folderBytes(dir);
    await rm(join(dir, 'chunk-00001.json'));
    const progress: number[] = [];
    const again = await generateTargets(sit, {
      ...sitOptions(dir),
      onProgress: (e) => progress.push(e.samplesDone),
    });
    expect(again).toMatchObject({ written: [1], skipped: [0, 2] });
    expect(progress).toEqual([4, 8, 10]);
    expect(await folderBytes(dir)).toEqual(before);
  });

  it('makes CFG + PAG targets for prompts with the perturbed-attention denoiser', async () => {
    const base = {
      conditions: [{ prompt: 'a red circle' }, { prompt: 'a blue square' }],
      numSamples: 2,
      numInferenceSteps: 5,
      seed: 1,
    };
    const cfgDir = await tempDir();
    await generateTargets(unet, { ...base, outputDir: cfgDir, guidance: { guidanceScale: 7, pagScale: 0 } });
    const pagDir = await tempDir();
    await generateTargets(unet, {
      ...base,
      outputDir: pagDir,
      guidance: { guidanceScale: 7, pagScale: 3, pagLayers: ['mid'] },
    });
    const cfg = (await TargetDataset.open(cfgDir)).gatherTargets([0, 1]);
    const pag = (await TargetDataset.open(pagDir)).gatherTargets([0, 1]);
    expect(pag.every(Number.isFinite)).toBe(true);
    expect(pag.some((v, i) => Math.abs(v - (cfg[i] as number)) > 1e-3)).toBe(true);
  });

  it('rejects mismatched folders, conditions and shards with typed errors', async () => {
    const dir = await tempDir();
    await generateTargets(sit, { ...sitOptions(dir), numSamples: 2 });
    await expect(generateTargets(sit, { ...sitOptions(dir), numSamples: 3 })).rejects.toThrow(
      /holds targets made with other settings: "num_samples" is 2 there, 3 now/,
    );
    await expect(
      generateTargets(sit, { ...sitOptions(await tempDir()), conditions: [{ prompt: 'a cat' }] }),
    ).rejects.toThrow(UnsupportedOptionError);
    await expect(
      generateTargets(sit, { ...sitOptions(await tempDir()), conditions: [{ label: 10 }] }),
    ).rejects.toThrow(/integer in \[0, 9\]/);
    await expect(
      generateTargets(sit, { ...sitOptions(await tempDir()), guidance: { guidanceScale: 1, pagScale: 0 } }),
    ).rejects.toThrow(/expected CFG .* and\/or PAG/);
    expect(() => parseShard('2/2')).toThrow(InvalidArgumentError);
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    const partial = await tempDir();
    await generateTargets(sit, { ...sitOptions(partial), shard: { index: 0, count: 2 } });
    await expect(TargetDataset.open(partial)).rejects.toThrow(/missing chunks 1/);
  });
});
