/**
 * Plain TypeScript versions of the layers, on row-major Float32Arrays in double
 * precision: the oracle the ONNX graphs are compared against.
 */

export interface Mat {
  data: Float64Array;
  rows: number;
  cols: number;
}

export const mat = (data: ArrayLike<number>, rows: number, cols: number): Mat => ({
  data: Float64Array.from(data),
  rows,
  cols,
});

export function matmul(a: Mat, b: Mat): Mat {
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const x = a.data[i * a.cols + k] as number;
      for (let j = 0; j < b.cols; j++) {
        out[i * b.cols + j] = (out[i * b.cols + j] as number) + x * (b.data[k * b.cols + j] as number);
      }
    }
  }
  return { data: out, rows: a.rows, cols: b.cols };
}

export function map(a: Mat, f: (x: number, row: number, col: number) => number): Mat {
  return { ...a, data: a.data.map((x, i) => f(x, Math.floor(i / a.cols), i % a.cols)) };
}

export const addRow = (a: Mat, row: ArrayLike<number>): Mat => map(a, (x, _, j) => x + (row[j] as number));

/** x @ W + b with W stored [in, out]. */
export function linearRef(x: Mat, weight: Float32Array, bias: Float32Array | undefined, out: number): Mat {
  const y = matmul(x, mat(weight, x.cols, out));
  return bias === undefined ? y : addRow(y, bias);
}

export function rowWise(a: Mat, f: (row: Float64Array, i: number) => ArrayLike<number>): Mat {
  const rows: number[] = [];
  let cols = 0;
  for (let i = 0; i < a.rows; i++) {
    const r = Array.from(f(a.data.subarray(i * a.cols, (i + 1) * a.cols), i));
    cols = r.length;
    rows.push(...r);
  }
  return mat(rows, a.rows, cols);
}

export function layerNormRef(a: Mat, eps: number, weight?: Float32Array, bias?: Float32Array): Mat {
  return rowWise(a, (r) => {
    const mean = r.reduce((s, x) => s + x, 0) / r.length;
    const variance = r.reduce((s, x) => s + (x - mean) ** 2, 0) / r.length;
    return r.map((x, j) => ((x - mean) / Math.sqrt(variance + eps)) * (weight?.[j] ?? 1) + (bias?.[j] ?? 0));
  });
}

export function softmaxRef(a: Mat): Mat {
  return rowWise(a, (r) => {
    const m = Math.max(...r);
    const e = r.map((x) => Math.exp(x - m));
    const s = e.reduce((p, x) => p + x, 0);
    return e.map((x) => x / s);
  });
}

/** erf by Abramowitz–Stegun 7.1.26 (absolute error below 1.5e-7). */
export function erf(x: number): number {
  const s = Math.sign(x);
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return s * (1 - poly * Math.exp(-ax * ax));
}

export const geluExact = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
export const geluTanh = (x: number) =>
  0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
export const siluRef = (x: number) => x / (1 + Math.exp(-x));

/** Maximum absolute difference between two arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Deterministic test inputs in [-scale, scale]. */
export function testValues(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (((s >>> 0) / 4294967296) * 2 - 1) * scale;
  });
}
