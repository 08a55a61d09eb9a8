import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, ModelLoadError } from '@noiserefine/core';
import type { Condition } from '../conditions';
import {
  chunkCount,
  chunkRange,
  readChunkRecord,
  readManifest,
  sha256,
  type TargetManifest,
} from './target-format';

/** A complete target dataset in memory: per sample x_T, x0_guide and its condition. */
export class TargetDataset {
  readonly sampleSize: number;

  private constructor(
    readonly dir: string,
    readonly manifest: TargetManifest,
    readonly noises: Float32Array,
    readonly targets: Float32Array,
  ) {
    this.sampleSize = manifest.latent_shape.reduce((p, d) => p * d, 1);
  }

  /** Reads every chunk, checking each file's hash; fails naming the chunks still missing. */
  static async open(dir: string): Promise<TargetDataset> {
    const manifest = await readManifest(dir);
    const size = manifest.latent_shape.reduce((p, d) => p * d, 1);
    const noises = new Float32Array(manifest.num_samples * size);
    const targets = new Float32Array(manifest.num_samples * size);
    const missing: number[] = [];
    for (let k = 0; k < chunkCount(manifest); k++) {
      const record = await readChunkRecord(dir, manifest, k);
      if (!record) {
        missing.push(k);
        continue;
      }
      const file = join(dir, record.file);
      const bytes = new Uint8Array(await readFile(file));
      const { start, count } = chunkRange(manifest, k);
      if (bytes.length !== 2 * count * size * 4 || sha256(bytes) !== record.sha256) {
        throw new ModelLoadError(
          file,
          `expected ${2 * count * size * 4} bytes with SHA-256 ${record.sha256}, got ${bytes.length} bytes that do not match; delete the chunk's .json and regenerate it`,
        );
      }
      const values = new Float32Array(bytes.buffer, bytes.byteOffset, 2 * count * size);
      noises.set(values.subarray(0, count * size), start * size);
      targets.set(values.subarray(count * size), start * size);
    }
    if (missing.length > 0) {
      throw new InvalidArgumentError(
        `${dir}: expected all ${chunkCount(manifest)} target chunks, got ${chunkCount(manifest) - missing.length}; missing chunks ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''} (run the targets command for every shard)`,
      );
    }
    return new TargetDataset(dir, manifest, noises, targets);
  }

  get size(): number {
    return this.manifest.num_samples;
  }

  get latentShape(): readonly number[] {
    return this.manifest.latent_shape;
  }

  condition(index: number): Condition {
    const list = this.manifest.conditions;
    return list[index % list.length] as Condition;
  }

  /** x_T of samples `indices`, concatenated as [n, C, H, W]. */
  gatherNoises(indices: readonly number[]): Float32Array {
    return this.#gather(this.noises, indices);
  }

  /** x0_guide of samples `indices`, concatenated. */
  gatherTargets(indices: readonly number[]): Float32Array {
    return this.#gather(this.targets, indices);
  }

  /** The CFG scale w of samples `indices`: the folder's, for each. */
  gatherGuidanceScales(indices: readonly number[]): Float32Array {
    return new Float32Array(indices.length).fill(this.manifest.guidance.guidance_scale);
  }

  #gather(source: Float32Array, indices: readonly number[]): Float32Array {
    const n = this.sampleSize;
    const out = new Float32Array(indices.length * n);
    indices.forEach((i, j) => {
      if (!Number.isInteger(i) || i < 0 || i >= this.size) {
        throw new InvalidArgumentError(`target dataset: sample ${i} is outside [0, ${this.size})`);
      }
      out.set(source.subarray(i * n, (i + 1) * n), j * n);
    });
    return out;
  }
}
