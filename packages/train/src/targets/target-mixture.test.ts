import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, ModelSignatureError } from '@noiserefine/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetDataset } from './target-dataset';
import {
  chunkName,
  MANIFEST_FILE,
  sha256,
  TARGET_FORMAT,
  TARGET_FORMAT_VERSION,
  type TargetManifest,
} from './target-format';
import { TargetMixture } from './target-mixture';

let root: string;

/**
 * A one-chunk folder of `count` samples of 2 values: sample i's x_T is [tag + i, tag + i + 0.5]
 * and its target the negative, so every value tells where it came from.
 */
async function folder(
  name: string,
  tag: number,
  count: number,
  guidance: Partial<TargetManifest['guidance']> = {},
  overrides: Partial<TargetManifest> = {},
): Promise<TargetDataset> {
  const dir = join(root, name);
  const manifest: TargetManifest = {
    format: TARGET_FORMAT,
    version: TARGET_FORMAT_VERSION,
    family: 'sit',
    base_model: 'tiny-sit',
    latent_shape: [2, 1, 1],
    num_samples: count,
    chunk_size: count,
    batch_size: count,
    seed: 0,
    condition_kind: 'label',
    conditions: [{ label: tag }],
    guidance: { guidance_scale: 4, pag_scale: 0, pag_layers: null, ...guidance },
    num_inference_steps: 2,
    scheduler: { _class_name: 'SiTFlowScheduler' },
    ...overrides,
  };
  const noises = Array.from({ length: count }, (_, i) => [tag + i, tag + i + 0.5]).flat();
  const bytes = new Uint8Array(Float32Array.from([...noises, ...noises.map((v) => -v)]).buffer);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
  await writeFile(join(dir, `${chunkName(0)}.bin`), bytes);
  await writeFile(
    join(dir, `${chunkName(0)}.json`),
    JSON.stringify({ index: 0, start: 0, count, file: `${chunkName(0)}.bin`, sha256: sha256(bytes) }),
  );
  return TargetDataset.open(dir);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'noiserefine-mixture-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('TargetMixture', () => {
  it('reads samples across folders in order, with each folder’s condition and guidance scale', async () => {
    const mixture = new TargetMixture([
      await folder('a', 100, 3, { guidance_scale: 2 }),
      await folder('b', 200, 4, { guidance_scale: 6 }),
    ]);
    expect(mixture.size).toBe(7);
    expect(mixture.guidanceScales).toEqual([2, 6]);
    const indices = [4, 0, 6, 2];
    expect(Array.from(mixture.gatherNoises(indices))).toEqual([
      201, 201.5, 100, 100.5, 203, 203.5, 102, 102.5,
    ]);
    expect(Array.from(mixture.gatherTargets([3]))).toEqual([-200, -200.5]);
    expect(Array.from(mixture.gatherGuidanceScales(indices))).toEqual([6, 2, 6, 2]);
    expect(indices.map((i) => mixture.condition(i))).toEqual([
      { label: 200 },
      { label: 100 },
      { label: 200 },
      { label: 100 },
    ]);
    expect(mixture.split(1)).toEqual({ train: [0, 1, 3, 4, 5], validation: [2, 6] });
    expect(() => mixture.split(3)).toThrow(/fewer validation samples than the 3 targets of .*a, got 3/);
    expect(() => mixture.locate(7)).toThrow(InvalidArgumentError);
  });

  it('checks the guidance fits the run', async () => {
    const two = await folder('w2', 0, 2, { guidance_scale: 2 });
    const twoAgain = await folder('w2-more', 10, 2, { guidance_scale: 2 });
    const twoWithPag = await folder('w2-pag', 20, 2, {
      guidance_scale: 2,
      pag_scale: 3,
      pag_layers: ['mid'],
    });
    const six = await folder('w6', 30, 2, { guidance_scale: 6 });
    // One guidance: a plain run may pool folders; a conditioned one may not.
    expect(() => new TargetMixture([two, twoAgain]).checkGuidance(false)).not.toThrow();
    expect(() => new TargetMixture([two, twoAgain]).checkGuidance(true)).toThrow(
      /two or more guidance scales, got 2 only \(CFG 2 in .*w2, CFG 2 in .*w2-more\)/,
    );
    expect(() => new TargetMixture([two, six]).checkGuidance(true)).not.toThrow();
    expect(() => new TargetMixture([two, six]).checkGuidance(false)).toThrow(/--guidance-conditioned/);
    expect(() => new TargetMixture([two, twoWithPag, six]).checkGuidance(true)).toThrow(
      /folders at CFG scale 2 differ .*CFG 2 \+ PAG 3 on \["mid"\]/,
    );
  });

  it('refuses folders of different models, shapes or condition kinds', async () => {
    const base = await folder('base', 0, 2);
    const otherModel = await folder('other', 0, 2, {}, { base_model: 'x' });
    const otherShape = await folder('wide', 0, 2, {}, { latent_shape: [1, 2, 1] });
    const prompts = await folder('prompts', 0, 2, {}, { condition_kind: 'prompt' });
    expect(() => new TargetMixture([base, otherModel])).toThrow(ModelSignatureError);
    expect(() => new TargetMixture([base, otherShape])).toThrow(/latent shape/);
    expect(() => new TargetMixture([base, prompts])).toThrow(/conditioned on labels .* got prompts/);
    expect(() => new TargetMixture([])).toThrow(/at least one target folder/);
  });
});
