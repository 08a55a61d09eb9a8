import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCaption } from '../captions';
import {
  DEFAULT_MSD_SETTINGS,
  msdArgs,
  parsePerModel,
  type RecipePaths,
  type RefinerRecipe,
  recipeStamp,
  targetPrompts,
  targetsArgs,
} from './refiner-recipe';
import { readZooModelInfo, zooModelMissing } from './zoo-model-folder';

const paths: RecipePaths = {
  modelDir: '/zoo/models/tiny-sd21',
  targetsDir: '/cache/targets',
  runDir: '/cache/run',
  refinerDir: '/zoo/models/tiny-sd21/refiner',
  promptsFile: '/cache/prompts.txt',
};

const recipe: RefinerRecipe = {
  model: 'tiny-sd21',
  conditionKind: 'prompt',
  numSamples: 3000,
  guidanceScale: 5,
  pagScale: 3,
  pagLayers: ['mid'],
  targetSteps: 20,
  targetBatchSize: 32,
  msd: DEFAULT_MSD_SETTINGS,
};

describe('refiner recipes', () => {
  it('writes class-balanced target prompts that each name their class', () => {
    const prompts = targetPrompts(20);
    expect(prompts).toHaveLength(20);
    expect(prompts.map((p) => parseCaption(p).label)).toEqual(Array.from({ length: 20 }, (_, i) => i % 10));
    expect(new Set(prompts).size).toBe(20);
  });

  it('builds targets and msd arguments the noiserefine-train CLI accepts', () => {
    const targets = targetsArgs(recipe, paths);
    expect(targets.slice(0, 2)).toEqual(['targets', paths.modelDir]);
    expect(targets).toEqual(
      expect.arrayContaining(['--conditions', paths.promptsFile, '--pag-scale', '3', '--pag-layers', 'mid']),
    );
    const sitTargets = targetsArgs({ ...recipe, conditionKind: 'label', pagScale: 0 }, paths);
    expect(sitTargets).toEqual(expect.arrayContaining(['--classes', '0-9']));
    expect(sitTargets).not.toContain('--pag-layers');
    const msd = msdArgs(recipe, paths);
    expect(msd).toEqual(
      expect.arrayContaining(['--refiner', 'lora', '--rank', '8', '--export', paths.refinerDir]),
    );
    // Every flag is one the built CLI documents for that command.
    const cli = join(
      dirname(createRequire(import.meta.url).resolve('@noiserefine/train/package.json')),
      'dist',
      'cli.js',
    );
    for (const args of [targets, msd]) {
      const help = execFileSync(process.execPath, [cli, args[0] as string, '--help'], { encoding: 'utf8' });
      for (const flag of args.filter((a) => a.startsWith('--'))) expect(help).toContain(flag);
    }
  });

  it('changes the targets stamp with the denoiser or target settings, the training one with MSD settings too', () => {
    const a = recipeStamp(recipe, 'abc');
    expect(recipeStamp(recipe, 'abc')).toEqual(a);
    const otherDenoiser = recipeStamp(recipe, 'abd');
    expect(otherDenoiser.targets).not.toBe(a.targets);
    expect(otherDenoiser.training).not.toBe(a.training);
    const otherScale = recipeStamp({ ...recipe, guidanceScale: 6 }, 'abc');
    expect(otherScale.targets).not.toBe(a.targets);
    const longer = recipeStamp({ ...recipe, msd: { ...recipe.msd, steps: 10 } }, 'abc');
    expect(longer.targets).toBe(a.targets);
    expect(longer.training).not.toBe(a.training);
  });
});

describe('parsePerModel', () => {
  it('reads one value for all, per-model values, or both', () => {
    const steps = parsePerModel('steps', 'tiny-sd21=1500,500', { integer: true, min: 1 });
    expect([steps('tiny-sd21'), steps('tiny-sit')]).toEqual([1500, 500]);
    const pag = parsePerModel('pag-scale', 'tiny-sdxl=3', { integer: false, min: 0 });
    expect([pag('tiny-sdxl'), pag('tiny-sit')]).toEqual([3, 0]);
  });

  it('names the option and the syntax when a value is bad or missing', () => {
    expect(() => parsePerModel('steps', 'tiny-sit=1.5,500', { integer: true, min: 1 })).toThrow(/--steps/);
    expect(() => parsePerModel('steps', 'tiny-sit=100', { integer: true, min: 1 })).toThrow(/every model/);
    expect(() => parsePerModel('pag-scale', '-1', { integer: false, min: 0 })).toThrow(/≥ 0/);
  });
});

describe('zoo model folders', () => {
  it('says why a folder is not ready, and reads a ready one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zoo-model-'));
    try {
      expect(zooModelMissing(dir)).toMatch(/model_index\.json/);
      await writeFile(
        join(dir, 'model_index.json'),
        JSON.stringify({ _class_name: 'StableDiffusionPipeline' }),
      );
      expect(zooModelMissing(dir)).toMatch(/neither transformer/);
      await mkdir(join(dir, 'unet'));
      await writeFile(join(dir, 'unet', 'model.onnx'), 'x');
      expect(zooModelMissing(dir)).toMatch(/zoo\.json/);
      await writeFile(join(dir, 'zoo.json'), JSON.stringify({ guidance_scale: 5 }));
      expect(zooModelMissing(dir)).toBeUndefined();
      const info = await readZooModelInfo(dir);
      expect(info).toMatchObject({ conditionKind: 'prompt', denoiserComponent: 'unet', guidanceScale: 5 });
      expect(await readFile(join(dir, 'zoo.json'), 'utf8')).toContain('5');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
