/**
 * Static shape rules for the operators the builder emits. They let layer helpers
 * check sizes while the graph is written (a wrong width fails at build time, naming
 * the node) and give graph outputs a declared shape. Unknown stays unknown: a rule
 * never guesses.
 */
import { formatShape, InvalidArgumentError, ShapeMismatchError } from '@noiserefine/core';
import type { Dim, ValueShape } from './value';

const known = (d: Dim | undefined): d is number => typeof d === 'number';

/** [batch, 16, ?]: symbolic dims by name, unknown ones as "?". */
export function formatDims(shape: ValueShape): string {
  return shape === undefined ? '[unknown rank]' : formatShape(shape.map((d) => (d === null ? '?' : d)));
}

/** A ShapeMismatchError whose message shows symbolic dims by name (`actual` holds NaN for them). */
export function shapeMismatch(what: string, expected: string, actual: ValueShape): ShapeMismatchError {
  const error = new ShapeMismatchError(
    what,
    expected,
    (actual ?? []).map((d) => (known(d) ? d : Number.NaN)),
  );
  error.message = `${what}: expected ${expected}, got ${formatDims(actual)}`;
  return error;
}

export function normalizeAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new InvalidArgumentError(`${what}: expected an axis in [${-rank}, ${rank - 1}], got ${axis}`);
  }
  return a;
}

/** Numpy broadcasting; a symbolic dim broadcasts against 1 and against itself. */
export function broadcastShapes(a: ValueShape, b: ValueShape, what: string): ValueShape {
  if (a === undefined || b === undefined) return undefined;
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    // Missing leading dims broadcast as 1; a present null dim is unknown, not 1.
    const ia = a.length - rank + i;
    const ib = b.length - rank + i;
    const da = ia < 0 ? 1 : (a[ia] as Dim);
    const db = ib < 0 ? 1 : (b[ib] as Dim);
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else if (known(da) && known(db)) {
      throw shapeMismatch(what, `a shape broadcastable with ${formatDims(a)}`, b);
    } else out.push(known(da) ? da : known(db) ? db : null);
  }
  return out;
}

/** MatMul of [..., n, k] by [..., k, m]; rank-1 operands give an unknown shape. */
export function matMulShape(a: ValueShape, b: ValueShape, what: string): ValueShape {
  if (a === undefined || b === undefined || a.length < 2 || b.length < 2) return undefined;
  const k = a[a.length - 1];
  if (known(k) && known(b[b.length - 2]) && b[b.length - 2] !== k) {
    throw shapeMismatch(`${what}: right operand of MatMul`, `[..., ${k}, m] to match ${formatDims(a)}`, b);
  }
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2), what) ?? [];
  return [...batch, a[a.length - 2] ?? null, b[b.length - 1] ?? null];
}

/**
 * Reshape with ONNX semantics (allowzero = 0): 0 copies the input dim at that position,
 * -1 takes what is left. Symbolic input dims are fine when copied by a 0.
 */
export function reshapeShape(input: ValueShape, target: readonly number[], what: string): ValueShape {
  const inferred = target.indexOf(-1);
  if (target.lastIndexOf(-1) !== inferred || target.some((t) => !Number.isInteger(t) || t < -1)) {
    throw new InvalidArgumentError(
      `${what}: expected a Reshape target of sizes, 0 (copy) and at most one -1, got ${formatShape(target)}`,
    );
  }
  const out: Dim[] = target.map((t, i) => (t === 0 ? (input?.[i] ?? null) : t));
  if (input === undefined) return out.map((d) => (d === -1 ? null : d));
  // Elements not carried over by a 0 must fill the target's explicit sizes (and the -1).
  let rest: number | null = 1;
  input.forEach((d, i) => {
    if (target[i] !== 0) rest = rest !== null && known(d) ? rest * d : null;
  });
  const given = target.reduce((p, t) => (t > 0 ? p * t : p), 1);
  if (rest !== null && (inferred >= 0 ? rest % given !== 0 : rest !== given)) {
    throw shapeMismatch(`${what}: Reshape to ${formatShape(target)}`, `a shape with matching size`, input);
  }
  if (inferred >= 0) out[inferred] = rest === null ? null : rest / given;
  return out;
}

export function transposeShape(input: ValueShape, perm: readonly number[], what: string): ValueShape {
  const sorted = [...perm].sort((x, y) => x - y);
  if (sorted.some((p, i) => p !== i)) {
    throw new InvalidArgumentError(`${what}: expected a permutation, got ${formatShape(perm)}`);
  }
  if (input === undefined) return undefined;
  if (perm.length !== input.length) {
    throw shapeMismatch(`${what}: Transpose by ${formatShape(perm)}`, `rank ${perm.length}`, input);
  }
  return perm.map((p) => input[p] ?? null);
}

export function concatShape(inputs: readonly ValueShape[], axis: number, what: string): ValueShape {
  const first = inputs[0];
  if (first === undefined || inputs.some((s) => s === undefined)) return undefined;
  const a = normalizeAxis(axis, first.length, what);
  let total: Dim = 0;
  for (const s of inputs as readonly (readonly Dim[])[]) {
    if (s.length !== first.length || first.some((d, i) => i !== a && known(d) && known(s[i]) && s[i] !== d)) {
      throw shapeMismatch(`${what}: Concat along axis ${axis}`, `dims matching ${formatDims(first)}`, s);
    }
    const d = s[a] ?? null;
    total = known(total) && known(d) ? total + d : null;
  }
  const out = [...first];
  out[a] = total;
  return out;
}

export function gatherShape(data: ValueShape, indices: ValueShape, axis: number, what: string): ValueShape {
  if (data === undefined || indices === undefined) return undefined;
  const a = normalizeAxis(axis, data.length, what);
  return [...data.slice(0, a), ...indices, ...data.slice(a + 1)];
}

export function unsqueezeShape(input: ValueShape, axes: readonly number[], what: string): ValueShape {
  if (input === undefined) return undefined;
  const rank = input.length + axes.length;
  const at = new Set(axes.map((x) => normalizeAxis(x, rank, what)));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : (input[j++] ?? null));
  return out;
}

/** Slice with constant starts/ends (clamped as ONNX clamps them) along the given axes. */
export function sliceShape(
  input: ValueShape,
  slices: {
    starts: readonly number[];
    ends: readonly number[];
    axes: readonly number[];
    steps: readonly number[];
  },
  what: string,
): ValueShape {
  if (input === undefined) return undefined;
  const out = [...input];
  slices.axes.forEach((axis, i) => {
    const a = normalizeAxis(axis, input.length, what);
    const d = input[a];
    if (!known(d)) {
      out[a] = null;
      return;
    }
    const step = slices.steps[i] ?? 1;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
    const start = slices.starts[i] ?? 0;
    const end = slices.ends[i] ?? d;
    const s = step > 0 ? clamp(start, 0, d) : clamp(start, -1, d - 1);
    const e = step > 0 ? clamp(end, 0, d) : clamp(end, -1, d - 1);
    out[a] = Math.max(0, Math.ceil((e - s) / step));
  });
  return out;
}

export function splitShapes(
  input: ValueShape,
  sizes: readonly number[],
  axis: number,
  what: string,
): ValueShape[] {
  if (input === undefined) return sizes.map(() => undefined);
  const a = normalizeAxis(axis, input.length, what);
  const total = sizes.reduce((p, s) => p + s, 0);
  const d = input[a];
  if (known(d) && d !== total) {
    throw shapeMismatch(
      `${what}: Split into ${formatShape(sizes)}`,
      `size ${total} along axis ${axis}`,
      input,
    );
  }
  return sizes.map((s) => {
    const out = [...input];
    out[a] = s;
    return out;
  });
}

export function reduceShape(
  input: ValueShape,
  axes: readonly number[],
  keepDims: boolean,
  what: string,
): ValueShape {
  if (input === undefined) return undefined;
  const reduced = new Set(axes.map((x) => normalizeAxis(x, input.length, what)));
  const out: Dim[] = [];
  input.forEach((d, i) => {
    if (!reduced.has(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

/** The number of elements when every dim is known. */
export function knownSize(shape: ValueShape): number | undefined {
  if (shape === undefined || !shape.every(known)) return undefined;
  return (shape as readonly number[]).reduce((p, d) => p * d, 1);
}
