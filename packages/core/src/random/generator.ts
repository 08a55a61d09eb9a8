import { InvalidArgumentError } from '../errors';
import { sizeOf } from '../tensor/shape';
import { referenceBackend } from '../tensor/reference-backend';
import type { Shape, Tensor, TensorBackend } from '../tensor/tensor';
import { MT19937 } from './mt19937';

const TWO_PI = 2 * Math.PI;
const F = Math.fround;

/**
 * A seeded random stream that reproduces torch's CPU generator:
 * `new Generator(seed).randn(shape)` equals `torch.manual_seed(seed); torch.randn(shape)`
 * in float32, and successive calls continue one stream like a seeded torch.Generator.
 */
export class Generator {
  readonly #engine: MT19937;
  /** torch caches the second Box-Muller value of its scalar normal sampler. */
  #cachedNormal: number | null = null;

  constructor(readonly seed: number | bigint) {
    if (typeof seed === 'number' && (!Number.isInteger(seed) || seed < 0)) {
      throw new InvalidArgumentError(`seed must be a non-negative integer, got ${seed}`);
    }
    this.#engine = new MT19937(seed);
  }

  /** Uniform float32 in [0, 1) from 24 bits, as torch draws for float tensors. */
  #uniform24(): number {
    return (this.#engine.nextUint32() & 0xffffff) / 16777216;
  }

  /** Uniform double in [0, 1) from 53 bits of two draws, as torch's scalar path does. */
  #uniform53(): number {
    const hi = this.#engine.nextUint32();
    const lo = this.#engine.nextUint32();
    // (hi << 32 | lo) & (2^53 - 1), divided by 2^53.
    return ((hi & 0x1fffff) * 4294967296 + lo) / 9007199254740992;
  }

  /** Standard-normal float32 values in torch's order. */
  randnValues(n: number): Float32Array {
    const out = new Float32Array(n);
    if (n >= 16) {
      for (let i = 0; i < n; i++) out[i] = this.#uniform24();
      for (let i = 0; i + 16 <= n; i += 16) boxMuller16(out, i);
      if (n % 16 !== 0) {
        // torch redraws one block of 16 and writes it over the last 16 values.
        const start = n - 16;
        for (let i = 0; i < 16; i++) out[start + i] = this.#uniform24();
        boxMuller16(out, start);
      }
      return out;
    }
    for (let i = 0; i < n; i++) out[i] = this.#scalarNormal();
    return out;
  }

  #scalarNormal(): number {
    if (this.#cachedNormal !== null) {
      const v = this.#cachedNormal;
      this.#cachedNormal = null;
      return v;
    }
    const u1 = this.#uniform53();
    const u2 = this.#uniform53();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = TWO_PI * u1;
    this.#cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Uniform float32 values in [0, 1) (torch.rand for float32). */
  randValues(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.#uniform24();
    return out;
  }

  randn(shape: Shape, backend: TensorBackend = referenceBackend): Tensor {
    return backend.fromData(this.randnValues(sizeOf(shape)), shape);
  }

  rand(shape: Shape, backend: TensorBackend = referenceBackend): Tensor {
    return backend.fromData(this.randValues(sizeOf(shape)), shape);
  }
}

function boxMuller16(data: Float32Array, start: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = F(1 - (data[start + j] as number));
    const u2 = data[start + j + 8] as number;
    const radius = F(Math.sqrt(F(-2 * F(Math.log(u1)))));
    const theta = F(TWO_PI * u2);
    data[start + j] = radius * F(Math.cos(theta));
    data[start + j + 8] = radius * F(Math.sin(theta));
  }
}

export interface RandnOptions {
  /** Seed for a fresh stream (torch.manual_seed). */
  seed?: number | bigint;
  /** Continue an existing stream instead. */
  generator?: Generator;
  backend?: TensorBackend;
}

/** `randn(shape, { seed })` equals `torch.manual_seed(seed); torch.randn(shape)` (CPU, float32). */
export function randn(shape: Shape, options: RandnOptions = {}): Tensor {
  const generator = options.generator ?? new Generator(options.seed ?? 0);
  return generator.randn(shape, options.backend);
}
