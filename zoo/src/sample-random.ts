import { MT19937 } from '@noiserefine/core';

/** A 32-bit mix of two integers (murmur3's finaliser over a golden-ratio combine). */
function mixSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ (index >>> 0)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The random stream of one dataset sample: its own Mersenne Twister seeded from
 * (dataset seed, sample index), so sample i is the same whatever the dataset size and
 * any sample can be regenerated alone.
 */
export class SampleRandom {
  readonly #engine: MT19937;

  constructor(seed: number, index: number) {
    this.#engine = new MT19937(mixSeed(seed, index));
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.#engine.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
