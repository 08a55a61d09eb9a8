import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, InvalidConfigError, ModelLoadError } from '@noiserefine/core';
import { mockBackend } from '@noiserefine/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { folderGuidanceScale, loadRefiner, promptsOption, samplingValues } from './sampling-cli';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function modelDir(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nr-cli-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

describe('samplingValues', () => {
  it('parses seed, steps and an optional guidance scale', () => {
    expect(samplingValues({ seed: '3', steps: '20' })).toEqual({
      seed: 3,
      numInferenceSteps: 20,
      guidanceScale: undefined,
    });
    expect(samplingValues({ seed: '0', steps: '5', 'guidance-scale': '4.5' }).guidanceScale).toBe(4.5);
  });

  it('names the option and the value it could not use', () => {
    expect(() => samplingValues({ seed: '0', steps: '2.5' })).toThrow(
      /--steps: expected a positive integer, got "2.5"/,
    );
    expect(() => samplingValues({ seed: 'x', steps: '5' })).toThrow(InvalidArgumentError);
  });
});

describe('promptsOption', () => {
  it('splits each value on semicolons and keeps commas inside captions', () => {
    expect(promptsOption(['a red ring, centred; a blue circle', 'a red plus sign'], ['x'])).toEqual([
      'a red ring, centred',
      'a blue circle',
      'a red plus sign',
    ]);
    expect(promptsOption(undefined, ['default'])).toEqual(['default']);
    expect(() => promptsOption(['a;;b'], [])).toThrow(/non-empty prompts/);
  });
});

describe('folderGuidanceScale', () => {
  it("reads zoo.json's guidance_scale, else falls back to the family default", async () => {
    expect(await folderGuidanceScale(await modelDir({ 'zoo.json': '{"guidance_scale": 3}' }), 7.5)).toBe(3);
    expect(await folderGuidanceScale(await modelDir(), 7.5)).toBe(7.5);
    await expect(
      folderGuidanceScale(await modelDir({ 'zoo.json': '{"guidance_scale": "high"}' }), 5),
    ).rejects.toBeInstanceOf(InvalidConfigError);
  });
});

describe('loadRefiner', () => {
  const backend = mockBackend({});

  it('is undefined when the model folder has no refiner/ and none was named', async () => {
    expect(await loadRefiner(backend, await modelDir())).toBeUndefined();
  });

  it('fails naming the file when a refiner folder given explicitly is incomplete', async () => {
    const dir = await modelDir();
    await expect(loadRefiner(backend, dir, join(dir, 'elsewhere'))).rejects.toBeInstanceOf(ModelLoadError);
  });
});
