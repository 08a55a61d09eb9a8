import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AnyPipeline, InvalidConfigError, SiTPipeline } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { defaultGuidanceScale, readZooMetadata, ZOO_METADATA_FILE } from './model-defaults';

async function folder(zoo?: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'zoo-defaults-'));
  if (zoo !== undefined) await writeFile(join(dir, ZOO_METADATA_FILE), JSON.stringify(zoo));
  return dir;
}

/** A SiTPipeline instance carrying only its config (defaultGuidanceScale reads nothing else). */
const sit = Object.assign(Object.create(SiTPipeline.prototype), {
  config: { numClasses: 10, inputSize: 8, inChannels: 4, cfgChannels: null, guidanceScale: 3.5 },
}) as AnyPipeline;
const textToImage = {} as AnyPipeline;

describe('defaultGuidanceScale', () => {
  it("reads zoo.json's guidance_scale for any family", async () => {
    const dir = await folder({ guidance_scale: 2 });
    expect(await defaultGuidanceScale(dir, textToImage)).toEqual({
      guidanceScale: 2,
      source: `${dir}/${ZOO_METADATA_FILE}`,
    });
    expect((await defaultGuidanceScale(dir, sit)).guidanceScale).toBe(2);
    expect(await readZooMetadata(dir)).toEqual({ guidance_scale: 2 });
  });

  it("falls back to SiT's transformer config, and fails for a text-to-image folder without zoo.json", async () => {
    const dir = await folder();
    expect(await readZooMetadata(dir)).toBeUndefined();
    expect(await defaultGuidanceScale(dir, sit)).toEqual({
      guidanceScale: 3.5,
      source: `${dir}/transformer/config.json`,
    });
    await expect(defaultGuidanceScale(dir, textToImage)).rejects.toThrow(InvalidConfigError);
    await expect(defaultGuidanceScale(dir, textToImage)).rejects.toThrow(
      /or pass a guidance scale explicitly/,
    );
  });

  it('rejects a guidance scale that is not a number ≥ 0', async () => {
    const dir = await folder({ guidance_scale: '4' });
    await expect(defaultGuidanceScale(dir, sit)).rejects.toThrow(
      /"guidance_scale" .* expected a number ≥ 0, got "4"/,
    );
  });
});
