import { InvalidArgumentError, ShapeMismatchError } from '@noiserefine/core';
import FFT from 'fft.js';

/**
 * Where a field's energy lies in frequency (paper Fig. 9, App. A.2): the refiner's residual
 * is expected to concentrate in the lowest frequencies, Gaussian noise spreads evenly.
 *
 * Radius convention: a bin (u, v) of an H×W 2D DFT has the signed frequencies
 * f_y = u/H, f_x = v/W folded into [−½, ½); its normalised radius is
 * √(f_y² + f_x²) / √(½² + ½²), so the spectrum spans [0, 1] (0: the mean, 1: the corner),
 * as the paper normalises the frequency domain into (0, 1).
 */

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;
}

function signedFrequency(k: number, n: number): number {
  return (k < n / 2 ? k : k - n) / n;
}

/** The normalised radius of bin (u, v) of an H×W spectrum, in [0, 1]. */
export function normalizedFrequencyRadius(u: number, v: number, height: number, width: number): number {
  const fy = signedFrequency(u, height);
  const fx = signedFrequency(v, width);
  return Math.sqrt(fy * fy + fx * fx) / Math.SQRT1_2;
}

/** Bins of an H×W spectrum whose normalised radius is ≤ cutoff, as a mask. */
export function lowFrequencyMask(height: number, width: number, cutoff: number): Uint8Array {
  const mask = new Uint8Array(height * width);
  for (let u = 0; u < height; u++) {
    for (let v = 0; v < width; v++) {
      // A little slack so a bin exactly on the cutoff counts despite rounding.
      mask[u * width + v] = normalizedFrequencyRadius(u, v, height, width) <= cutoff + 1e-12 ? 1 : 0;
    }
  }
  return mask;
}

/**
 * A 2D DFT power spectrum |F(u, v)|² of one real H×W plane, row transforms then column
 * transforms with fft.js (radix-4, power-of-two sizes).
 */
export class PowerSpectrum2d {
  readonly #rows: FFT;
  readonly #cols: FFT;
  readonly #grid: Float64Array;
  readonly #rowIn: number[];
  readonly #rowOut: number[];
  readonly #colIn: number[];
  readonly #colOut: number[];

  constructor(
    readonly height: number,
    readonly width: number,
  ) {
    if (!isPowerOfTwo(height) || !isPowerOfTwo(width)) {
      throw new InvalidArgumentError(
        `PowerSpectrum2d: expected power-of-two sides ≥ 2 (fft.js), got ${height}×${width}`,
      );
    }
    this.#rows = new FFT(width);
    this.#cols = new FFT(height);
    this.#grid = new Float64Array(2 * height * width);
    this.#rowIn = this.#rows.createComplexArray() as number[];
    this.#rowOut = this.#rows.createComplexArray() as number[];
    this.#colIn = this.#cols.createComplexArray() as number[];
    this.#colOut = this.#cols.createComplexArray() as number[];
  }

  /** |F|² of `plane` (H·W values, row-major), into `out` (H·W) or a new array. */
  compute(plane: ArrayLike<number>, out = new Float64Array(this.height * this.width)): Float64Array {
    const { height: h, width: w } = this;
    const grid = this.#grid;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        this.#rowIn[2 * x] = plane[y * w + x] as number;
        this.#rowIn[2 * x + 1] = 0;
      }
      this.#rows.transform(this.#rowOut, this.#rowIn);
      for (let i = 0; i < 2 * w; i++) grid[2 * y * w + i] = this.#rowOut[i] as number;
    }
    for (let x = 0; x < w; x++) {
      for (let y = 0; y < h; y++) {
        this.#colIn[2 * y] = grid[2 * (y * w + x)] as number;
        this.#colIn[2 * y + 1] = grid[2 * (y * w + x) + 1] as number;
      }
      this.#cols.transform(this.#colOut, this.#colIn);
      for (let y = 0; y < h; y++) {
        const re = this.#colOut[2 * y] as number;
        const im = this.#colOut[2 * y + 1] as number;
        out[y * w + x] = re * re + im * im;
      }
    }
    return out;
  }
}

export interface LowFrequencyEnergy {
  /** Fraction of the energy (summed over samples and channels) in bins of radius ≤ cutoff. */
  fraction: number;
  /** Fraction of the bins inside the cutoff: what white noise gives in expectation. */
  binFraction: number;
  cutoff: number;
}

/**
 * The share of a batch's spectral energy inside the lowest `cutoff` of the normalised
 * frequency radius, each channel of each sample transformed on its own (2D FFT per channel).
 * The mean is kept: a constant offset is the lowest frequency there is.
 */
export function lowFrequencyEnergy(
  values: ArrayLike<number>,
  shape: readonly number[],
  cutoff = 0.1,
): LowFrequencyEnergy {
  if (shape.length !== 4) {
    throw new ShapeMismatchError('lowFrequencyEnergy: values', ['B', 'C', 'H', 'W'], [...shape]);
  }
  const [b, c, h, w] = shape as [number, number, number, number];
  if (values.length !== b * c * h * w) {
    throw new InvalidArgumentError(
      `lowFrequencyEnergy: expected ${b * c * h * w} values for shape [${shape.join(', ')}], got ${values.length}`,
    );
  }
  if (!(cutoff >= 0 && cutoff <= 1)) {
    throw new InvalidArgumentError(`lowFrequencyEnergy: expected a cutoff in [0, 1], got ${cutoff}`);
  }
  const mask = lowFrequencyMask(h, w, cutoff);
  const spectrum = new PowerSpectrum2d(h, w);
  const power = new Float64Array(h * w);
  const plane = new Float64Array(h * w);
  let inside = 0;
  let total = 0;
  for (let p = 0; p < b * c; p++) {
    for (let i = 0; i < h * w; i++) plane[i] = values[p * h * w + i] as number;
    spectrum.compute(plane, power);
    for (let i = 0; i < h * w; i++) {
      const e = power[i] as number;
      total += e;
      if (mask[i]) inside += e;
    }
  }
  const bins = mask.reduce((s, m) => s + m, 0);
  return { fraction: total > 0 ? inside / total : 0, binFraction: bins / (h * w), cutoff };
}
