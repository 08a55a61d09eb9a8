import {
  InvalidArgumentError,
  ModelSignatureError,
  ShapeMismatchError,
  shapesEqual,
} from '@noiserefine/core';
import type { Condition } from '../conditions';
import type { TargetDataset } from './target-dataset';
import type { TargetManifest } from './target-format';

/** What reading samples needs; a TargetDataset and a TargetMixture both provide it. */
export type TargetSamples = Pick<
  TargetDataset,
  'condition' | 'gatherNoises' | 'gatherTargets' | 'gatherGuidanceScales'
>;

const describeGuidance = (g: TargetManifest['guidance']) =>
  `CFG ${g.guidance_scale}${g.pag_scale > 0 ? ` + PAG ${g.pag_scale} on ${JSON.stringify(g.pag_layers)}` : ''}`;

/**
 * Several target folders as one sample list, in the order given: sample i of the mixture is
 * sample i − offset of the folder holding it. Folders made at different guidance scales train
 * a guidance-conditioned refiner (paper App. A.4), each sample fed the scale of its folder.
 */
export class TargetMixture {
  readonly parts: readonly TargetDataset[];
  readonly #offsets: number[];

  constructor(parts: readonly TargetDataset[]) {
    const [first] = parts;
    if (!first) throw new InvalidArgumentError('targets: expected at least one target folder, got none');
    for (const part of parts.slice(1)) {
      const a = first.manifest;
      const b = part.manifest;
      if (a.family !== b.family || a.base_model !== b.base_model) {
        throw new ModelSignatureError(
          `targets: ${part.dir} was made for ${b.family} model "${b.base_model}", expected ${a.family} model "${a.base_model}" as ${first.dir}`,
        );
      }
      if (!shapesEqual(a.latent_shape, b.latent_shape)) {
        throw new ShapeMismatchError(`targets in ${part.dir}: latent shape`, a.latent_shape, b.latent_shape);
      }
      if (a.condition_kind !== b.condition_kind) {
        throw new InvalidArgumentError(
          `targets: expected every folder conditioned on ${a.condition_kind}s as ${first.dir}, got ${b.condition_kind}s in ${part.dir}`,
        );
      }
    }
    this.parts = [...parts];
    let offset = 0;
    this.#offsets = this.parts.map((p) => {
      const start = offset;
      offset += p.size;
      return start;
    });
  }

  get size(): number {
    return this.parts.reduce((n, p) => n + p.size, 0);
  }

  get latentShape(): readonly number[] {
    return (this.parts[0] as TargetDataset).latentShape;
  }

  get manifests(): TargetManifest[] {
    return this.parts.map((p) => p.manifest);
  }

  /** The distinct CFG scales of the folders, ascending. */
  get guidanceScales(): number[] {
    return [...new Set(this.parts.map((p) => p.manifest.guidance.guidance_scale))].sort((a, b) => a - b);
  }

  /** The folder holding mixture sample `index`, and the sample's index there. */
  locate(index: number): { part: TargetDataset; index: number } {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new InvalidArgumentError(`targets: sample ${index} is outside [0, ${this.size})`);
    }
    let k = this.parts.length - 1;
    while ((this.#offsets[k] as number) > index) k--;
    return { part: this.parts[k] as TargetDataset, index: index - (this.#offsets[k] as number) };
  }

  condition(index: number): Condition {
    const { part, index: i } = this.locate(index);
    return part.condition(i);
  }

  gatherNoises(indices: readonly number[]): Float32Array {
    return this.#gather(indices, (part, i) => part.gatherNoises(i));
  }

  gatherTargets(indices: readonly number[]): Float32Array {
    return this.#gather(indices, (part, i) => part.gatherTargets(i));
  }

  /** The CFG scale w each sample's target was made with. */
  gatherGuidanceScales(indices: readonly number[]): Float32Array {
    return Float32Array.from(indices, (i) => this.locate(i).part.manifest.guidance.guidance_scale);
  }

  /** The last `held` samples of every folder for validation, the others for training (mixture indices). */
  split(held: number): { train: number[]; validation: number[] } {
    const train: number[] = [];
    const validation: number[] = [];
    this.parts.forEach((part, k) => {
      if (held >= part.size) {
        throw new InvalidArgumentError(
          `MSD training: expected fewer validation samples than the ${part.size} targets${this.parts.length > 1 ? ` of ${part.dir}` : ''}, got ${held}`,
        );
      }
      const offset = this.#offsets[k] as number;
      for (let i = 0; i < part.size; i++) (i < part.size - held ? train : validation).push(offset + i);
    });
    return { train, validation };
  }

  /**
   * Checks the folders' guidance suits the run: a plain refiner learns one guidance, so its
   * folders must agree; a guidance-conditioned one needs at least two CFG scales, and folders
   * at one scale must agree on the rest (PAG), since the refiner is told w alone.
   */
  checkGuidance(guidanceConditioned: boolean): void {
    const byScale = new Map<number, TargetDataset>();
    for (const part of this.parts) {
      const g = part.manifest.guidance;
      const same = byScale.get(g.guidance_scale);
      if (same && JSON.stringify(same.manifest.guidance) !== JSON.stringify(g)) {
        throw new InvalidArgumentError(
          `targets: folders at CFG scale ${g.guidance_scale} differ in the rest of their guidance (${describeGuidance(same.manifest.guidance)} in ${same.dir}, ${describeGuidance(g)} in ${part.dir}); expected one guidance per scale`,
        );
      }
      byScale.set(g.guidance_scale, part);
    }
    const found = this.parts.map((p) => `${describeGuidance(p.manifest.guidance)} in ${p.dir}`).join(', ');
    if (guidanceConditioned && byScale.size < 2) {
      throw new InvalidArgumentError(
        `guidance-conditioned training: expected target folders made at two or more guidance scales, got ${this.guidanceScales.join(', ')} only (${found})`,
      );
    }
    if (!guidanceConditioned && byScale.size > 1) {
      throw new InvalidArgumentError(
        `MSD training: expected target folders made with one guidance for an unconditioned refiner, got ${found}; train with guidanceConditioned (--guidance-conditioned) to learn several scales`,
      );
    }
  }

  #gather(
    indices: readonly number[],
    read: (part: TargetDataset, i: number[]) => Float32Array,
  ): Float32Array {
    const n = this.latentShape.reduce((p, d) => p * d, 1);
    const out = new Float32Array(indices.length * n);
    indices.forEach((index, j) => {
      const { part, index: i } = this.locate(index);
      out.set(read(part, [i]), j * n);
    });
    return out;
  }
}
