import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, ModelLoadError, type RefinerFamily } from '@noiserefine/core';
import type { Condition, ConditionKind } from '../conditions';

/**
 * A target dataset is a folder:
 *   manifest.json          what every chunk was made with (TargetManifest)
 *   chunk-00000.bin        float32 little-endian: the chunk's x_T [n, C, H, W], then its x0_guide [n, C, H, W]
 *   chunk-00000.json       the chunk record (TargetChunkRecord), written last: a chunk without one is unfinished
 * Sample i lives in chunk floor(i / chunkSize); its x_T is torch.manual_seed(fmix32(seed) XOR i);
 * torch.randn(1, C, H, W) (see seeds.ts), its condition conditions[i mod conditions.length].
 */
export const TARGET_FORMAT = 'noiserefine-msd-targets';
export const TARGET_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export interface TargetManifest {
  format: typeof TARGET_FORMAT;
  version: number;
  family: RefinerFamily;
  base_model: string;
  /** [C, H, W]. */
  latent_shape: number[];
  num_samples: number;
  chunk_size: number;
  /** Denoiser batch within a chunk: batches never span chunks, so any sharding gives the same bytes. */
  batch_size: number;
  seed: number;
  condition_kind: ConditionKind;
  /** Cycled over the samples. */
  conditions: Condition[];
  guidance: { guidance_scale: number; pag_scale: number; pag_layers: string[] | null };
  /** N′: steps of the guided sampler. */
  num_inference_steps: number;
  /** The scheduler's diffusers config, with _class_name. */
  scheduler: Record<string, unknown>;
}

export interface TargetChunkRecord {
  index: number;
  /** First sample index. */
  start: number;
  count: number;
  /** The .bin file and the SHA-256 of its bytes. */
  file: string;
  sha256: string;
}

export const chunkName = (index: number): string => `chunk-${String(index).padStart(5, '0')}`;

export function chunkCount(manifest: Pick<TargetManifest, 'num_samples' | 'chunk_size'>): number {
  return Math.ceil(manifest.num_samples / manifest.chunk_size);
}

/** The sample indices of chunk `index`. */
export function chunkRange(manifest: TargetManifest, index: number): { start: number; count: number } {
  const start = index * manifest.chunk_size;
  return { start, count: Math.min(manifest.chunk_size, manifest.num_samples - start) };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The first key where two manifests differ, or undefined when they agree. */
export function manifestDifference(a: TargetManifest, b: TargetManifest): string | undefined {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof TargetManifest)[];
  return keys.find((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

export async function readManifest(dir: string): Promise<TargetManifest> {
  const file = join(dir, MANIFEST_FILE);
  let manifest: TargetManifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as TargetManifest;
  } catch (error) {
    throw new ModelLoadError(file, `no readable target manifest (${String(error)})`, { cause: error });
  }
  if (manifest.format !== TARGET_FORMAT || manifest.version !== TARGET_FORMAT_VERSION) {
    throw new ModelLoadError(
      file,
      `expected format "${TARGET_FORMAT}" version ${TARGET_FORMAT_VERSION}, got "${String(manifest.format)}" version ${String(manifest.version)}`,
    );
  }
  return manifest;
}

/** The chunk's record when the chunk is complete and intact, else undefined. */
export async function readChunkRecord(
  dir: string,
  manifest: TargetManifest,
  index: number,
): Promise<TargetChunkRecord | undefined> {
  let record: TargetChunkRecord;
  try {
    record = JSON.parse(await readFile(join(dir, `${chunkName(index)}.json`), 'utf8')) as TargetChunkRecord;
  } catch {
    return undefined;
  }
  const { start, count } = chunkRange(manifest, index);
  if (record.index !== index || record.start !== start || record.count !== count) {
    throw new InvalidArgumentError(
      `${dir}: chunk ${index} records samples ${record.start}+${record.count}, expected ${start}+${count} for this manifest`,
    );
  }
  return record;
}

/** "i/n" → { index, count }, 0-based. */
export function parseShard(spec: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count) {
    throw new InvalidArgumentError(`shard: expected "i/n" with 0 ≤ i < n (e.g. "0/4"), got "${spec}"`);
  }
  return { index, count };
}
