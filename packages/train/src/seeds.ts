/**
 * Seeds of derived random streams. torch's generator (and core's Generator) keeps only 32 bits
 * of a seed, so a stream for item i of a run seeded with `seed` is seeded with
 * fmix32(seed) XOR i: distinct for every i of one run, and runs with different seeds overlap
 * only with probability about (items / 2³²). fmix32 is MurmurHash3's 32-bit finalizer.
 */
export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** The seed of item `index` of a run seeded with `seed`. */
export function derivedSeed(seed: number, index: number): number {
  return (fmix32(seed) ^ index) >>> 0;
}
