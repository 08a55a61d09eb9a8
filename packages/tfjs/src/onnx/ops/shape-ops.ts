import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError, UnsupportedOptionError } from '@noiserefine/core';
import { normAxis, type OpContext, type OpDefinition, type OpInputs, required } from './op-types';

type Pair = [number, number];

/** The integer list given by input `i` from opset `since` on, by attribute `name` before. */
function intsFrom(
  inputs: OpInputs,
  i: number,
  name: string,
  since: number,
  ctx: OpContext,
): number[] | undefined {
  if (ctx.opset >= since) {
    const t = inputs[i];
    return t ? ctx.ints(t) : undefined;
  }
  return ctx.attrs.ints(name);
}

function resolveReshape(x: tf.Tensor, target: number[], allowZero: boolean, ctx: OpContext): number[] {
  const dims = target.map((d, i) => (d === 0 && !allowZero ? (x.shape[i] as number) : d));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const unknown = dims.filter((d) => d === -1).length;
  if (unknown > 1 || (unknown === 1 && (known === 0 || x.size % known !== 0))) {
    throw new InvalidArgumentError(
      `${ctx.where}: cannot reshape [${x.shape.join(', ')}] to [${target.join(', ')}]`,
    );
  }
  const out = dims.map((d) => (d === -1 ? x.size / known : d));
  if (out.reduce((a, b) => a * b, 1) !== x.size) {
    throw new InvalidArgumentError(
      `${ctx.where}: cannot reshape [${x.shape.join(', ')}] (${x.size} elements) to [${target.join(', ')}]`,
    );
  }
  return out;
}

/** numpy broadcasting of two shapes (Expand is bidirectional). */
export function broadcastShape(a: readonly number[], b: readonly number[], ctx: OpContext): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new InvalidArgumentError(
        `${ctx.where}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`,
      );
    }
    return da === 1 ? db : da;
  });
}

function sliceAxis(x: tf.Tensor, axis: number, start: number, size: number): tf.Tensor {
  const begin = x.shape.map((_, i) => (i === axis ? start : 0));
  const sizes = x.shape.map((d, i) => (i === axis ? size : d));
  return tf.slice(x, begin, sizes);
}

/** ONNX Slice on one axis: clamps like the spec, then a slice, a reverse or a gather for other steps. */
function sliceWithStep(
  x: tf.Tensor,
  axis: number,
  start: number,
  end: number,
  step: number,
  ctx: OpContext,
): tf.Tensor {
  const dim = x.shape[axis] as number;
  if (step === 0) throw new InvalidArgumentError(`${ctx.where}: Slice step must not be 0`);
  const norm = (v: number) => (v < 0 ? v + dim : v);
  if (step > 0) {
    const s = Math.min(Math.max(norm(start), 0), dim);
    const e = Math.min(Math.max(norm(end), 0), dim);
    const count = Math.max(0, Math.ceil((e - s) / step));
    if (step === 1 || count <= 1) return sliceAxis(x, axis, s, count === 0 ? 0 : step === 1 ? e - s : 1);
    const indices = Array.from({ length: count }, (_, i) => s + i * step);
    return tf.gather(x, tf.tensor1d(indices, 'int32'), axis);
  }
  const s = Math.min(Math.max(norm(start), 0), dim - 1);
  const e = Math.min(Math.max(norm(end), -1), dim - 1);
  const count = Math.max(0, Math.ceil((s - e) / -step));
  if (count === 0) return sliceAxis(x, axis, 0, 0);
  if (step === -1) return tf.reverse(sliceAxis(x, axis, e + 1, count), [axis]);
  const indices = Array.from({ length: count }, (_, i) => s + i * step);
  return tf.gather(x, tf.tensor1d(indices, 'int32'), axis);
}

/** Reflect / edge / constant padding of one axis; negative amounts crop. */
function padAxis(
  x: tf.Tensor,
  axis: number,
  [before, after]: Pair,
  mode: string,
  value: number,
  ctx: OpContext,
): tf.Tensor {
  let y = x;
  if (before < 0 || after < 0) {
    const cutBefore = Math.max(-before, 0);
    const cutAfter = Math.max(-after, 0);
    y = sliceAxis(y, axis, cutBefore, (y.shape[axis] as number) - cutBefore - cutAfter);
  }
  const [a, b] = [Math.max(before, 0), Math.max(after, 0)];
  if (a === 0 && b === 0) return y;
  const dim = y.shape[axis] as number;
  if (mode === 'constant') {
    const pads = y.shape.map((_, i): Pair => (i === axis ? [a, b] : [0, 0]));
    return tf.pad(y, pads, value);
  }
  const parts: tf.Tensor[] = [];
  if (mode === 'reflect') {
    if (a >= dim || b >= dim) {
      throw new InvalidArgumentError(
        `${ctx.where}: reflect padding of ${Math.max(a, b)} needs an axis longer than ${dim}`,
      );
    }
    if (a > 0) parts.push(tf.reverse(sliceAxis(y, axis, 1, a), [axis]));
    parts.push(y);
    if (b > 0) parts.push(tf.reverse(sliceAxis(y, axis, dim - 1 - b, b), [axis]));
  } else {
    const reps = (n: number) => y.shape.map((_, i) => (i === axis ? n : 1));
    if (a > 0) parts.push(tf.tile(sliceAxis(y, axis, 0, 1), reps(a)));
    parts.push(y);
    if (b > 0) parts.push(tf.tile(sliceAxis(y, axis, dim - 1, 1), reps(b)));
  }
  return tf.concat(parts, axis);
}

const PAD_MODES = ['constant', 'reflect', 'edge'];

export const SHAPE_OPS: Record<string, OpDefinition> = {
  Reshape: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const target = ctx.opset >= 5 ? ctx.ints(required(inputs, 1, ctx)) : (ctx.attrs.ints('shape') ?? []);
      return tf.reshape(x, resolveReshape(x, target, ctx.attrs.int('allowzero', 0) === 1, ctx));
    },
  },
  Flatten: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const axis = ctx.attrs.int('axis', 1);
      const a = axis < 0 ? axis + x.rank : axis;
      const rows = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
      return tf.reshape(x, [rows, rows === 0 ? 0 : x.size / rows]);
    },
  },
  Transpose: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const perm = ctx.attrs.ints('perm') ?? x.shape.map((_, i) => x.rank - 1 - i);
      return tf.transpose(x, perm);
    },
  },
  Squeeze: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const axes = intsFrom(inputs, 1, 'axes', 13, ctx);
      const drop = axes
        ? axes.map((a) => normAxis(a, x.rank, ctx))
        : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
      return tf.reshape(
        x,
        x.shape.filter((_, i) => !drop.includes(i)),
      );
    },
  },
  Unsqueeze: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const axes = intsFrom(inputs, 1, 'axes', 13, ctx) ?? [];
      const rank = x.rank + axes.length;
      const inserted = new Set(axes.map((a) => normAxis(a, rank, ctx)));
      const source = [...x.shape];
      return tf.reshape(
        x,
        Array.from({ length: rank }, (_, i) => (inserted.has(i) ? 1 : (source.shift() as number))),
      );
    },
  },
  Concat: {
    run: (inputs, ctx) => {
      const xs = inputs.filter((t): t is tf.Tensor => t !== undefined);
      const first = xs[0] ?? required(inputs, 0, ctx);
      const axis = normAxis(ctx.attrs.int('axis', 0), first.rank, ctx);
      const nonEmpty = xs.filter((t) => t.size > 0);
      if (nonEmpty.length === 0) return tf.clone(first);
      return nonEmpty.length === 1 ? tf.clone(nonEmpty[0] as tf.Tensor) : tf.concat(nonEmpty, axis);
    },
  },
  Split: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const axis = normAxis(ctx.attrs.int('axis', 0), x.rank, ctx);
      const dim = x.shape[axis] as number;
      const count = ctx.attrs.int('num_outputs') ?? ctx.outputCount;
      let sizes = intsFrom(inputs, 1, 'split', 13, ctx);
      if (!sizes || sizes.length === 0) {
        // Equal parts; with num_outputs the last part may be smaller (opset 18).
        const part = Math.ceil(dim / count);
        sizes = Array.from({ length: count }, (_, i) => Math.max(0, Math.min(part, dim - i * part)));
      }
      if (sizes.reduce((a, b) => a + b, 0) !== dim) {
        throw new InvalidArgumentError(
          `${ctx.where}: split sizes [${sizes.join(', ')}] do not add up to ${dim}`,
        );
      }
      let offset = 0;
      return sizes.map((size) => {
        const part = sliceAxis(x, axis, offset, size);
        offset += size;
        return part;
      });
    },
  },
  Slice: {
    run: (inputs, ctx) => {
      let y = required(inputs, 0, ctx);
      const starts = intsFrom(inputs, 1, 'starts', 10, ctx) ?? [];
      const ends = intsFrom(inputs, 2, 'ends', 10, ctx) ?? [];
      const axes = intsFrom(inputs, 3, 'axes', 10, ctx) ?? starts.map((_, i) => i);
      const steps = (ctx.opset >= 10 && inputs[4] ? ctx.ints(inputs[4]) : undefined) ?? starts.map(() => 1);
      const rank = y.rank;
      axes.forEach((a, i) => {
        y = sliceWithStep(
          y,
          normAxis(a, rank, ctx),
          starts[i] as number,
          ends[i] as number,
          steps[i] as number,
          ctx,
        );
      });
      return y === inputs[0] ? tf.clone(y) : y;
    },
  },
  Expand: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const shape = broadcastShape(x.shape, ctx.ints(required(inputs, 1, ctx)), ctx);
      return tf.broadcastTo(x, shape);
    },
  },
  Tile: {
    run: (inputs, ctx) => tf.tile(required(inputs, 0, ctx), ctx.ints(required(inputs, 1, ctx))),
  },
  Pad: {
    check: (ctx) => {
      const mode = ctx.attrs.string('mode', 'constant');
      if (!PAD_MODES.includes(mode))
        throw new UnsupportedOptionError('Pad mode', mode, PAD_MODES, { context: ctx.where });
    },
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const mode = ctx.attrs.string('mode', 'constant');
      const pads =
        ctx.opset >= 11
          ? ctx.ints(required(inputs, 1, ctx))
          : (ctx.attrs.ints('pads') ?? ctx.attrs.ints('paddings') ?? []);
      const value =
        ctx.opset >= 11
          ? inputs[2] && inputs[2].size > 0
            ? (ctx.floats(inputs[2])[0] as number)
            : 0
          : ctx.attrs.float('value', 0);
      const axes =
        ctx.opset >= 18 && inputs[3]
          ? ctx.ints(inputs[3]).map((a) => normAxis(a, x.rank, ctx))
          : x.shape.map((_, i) => i);
      let y = x;
      axes.forEach((axis, i) => {
        y = padAxis(y, axis, [pads[i] as number, pads[i + axes.length] as number], mode, value, ctx);
      });
      return y === x ? tf.clone(x) : y;
    },
  },
  Shape: {
    run: (inputs, ctx) => {
      const x = required(inputs, 0, ctx);
      const norm = (v: number) => Math.min(Math.max(v < 0 ? v + x.rank : v, 0), x.rank);
      const start = norm(ctx.attrs.int('start', 0));
      const end = norm(ctx.attrs.int('end', x.rank));
      return tf.tensor1d(x.shape.slice(start, end), 'int32');
    },
  },
  Size: { run: (inputs, ctx) => tf.scalar(required(inputs, 0, ctx).size, 'int32') },
};
