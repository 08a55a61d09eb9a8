import * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@noiserefine/core';

/** A parsed einsum equation; "..." is kept as the token ELLIPSIS until ranks are known. */
export interface EinsumSpec {
  readonly operands: readonly (readonly string[])[];
  /** null when the equation has no "->" (implicit output). */
  readonly output: readonly string[] | null;
}

const ELLIPSIS = '...';

function terms(side: string, equation: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < side.length; i++) {
    const c = side[i] as string;
    if (c === ' ') continue;
    if (side.startsWith(ELLIPSIS, i)) {
      out.push(ELLIPSIS);
      i += 2;
    } else if (/[a-zA-Z]/.test(c)) {
      out.push(c);
    } else {
      throw new InvalidArgumentError(`einsum equation "${equation}": unexpected character "${c}"`);
    }
  }
  return out;
}

/** Parses "bhqd,bhkd->bhqk"; rejects labels repeated within one operand (diagonals). */
export function parseEinsum(equation: string): EinsumSpec {
  const [lhs, rhs] = equation.split('->') as [string, string | undefined];
  const operands = lhs.split(',').map((s) => terms(s, equation));
  for (const op of operands) {
    const letters = op.filter((l) => l !== ELLIPSIS);
    if (new Set(letters).size !== letters.length) {
      throw new InvalidArgumentError(
        `einsum equation "${equation}": a label repeated within one operand (a diagonal) is not supported`,
      );
    }
  }
  return { operands, output: rhs === undefined ? null : terms(rhs, equation) };
}

/** Replaces "..." by labels "…0", "…1", … aligned from the right across operands. */
function expandEllipsis(labels: readonly string[], rank: number, equation: string): string[] {
  const at = labels.indexOf(ELLIPSIS);
  if (at < 0) {
    if (labels.length !== rank) {
      throw new InvalidArgumentError(
        `einsum equation "${equation}": operand has rank ${rank} but ${labels.length} labels`,
      );
    }
    return [...labels];
  }
  const count = rank - (labels.length - 1);
  const dots = Array.from({ length: count }, (_, i) => `…${count - 1 - i}`);
  return [...labels.slice(0, at), ...dots, ...labels.slice(at + 1)];
}

interface Operand {
  tensor: tf.Tensor;
  labels: string[];
}

function sizeOfLabel(op: Operand, label: string): number {
  return op.tensor.shape[op.labels.indexOf(label)] as number;
}

/** Sums away labels that no one else needs. */
function sumOut(op: Operand, needed: ReadonlySet<string>): Operand {
  const axes = op.labels.flatMap((l, i) => (needed.has(l) ? [] : [i]));
  if (axes.length === 0) return op;
  return { tensor: tf.sum(op.tensor, axes), labels: op.labels.filter((l) => needed.has(l)) };
}

/** Transposes to `order`, broadcasting size-1 axes of broadcast labels to `sizes`. */
function arrange(op: Operand, order: readonly string[], sizes: ReadonlyMap<string, number>): tf.Tensor {
  const perm = order.map((l) => op.labels.indexOf(l));
  const moved = perm.every((p, i) => p === i) ? op.tensor : tf.transpose(op.tensor, perm);
  const target = order.map((l) => sizes.get(l) as number);
  return moved.shape.every((d, i) => d === target[i]) ? moved : tf.broadcastTo(moved, target);
}

/** Contracts two operands with one batched matrix product. */
function contract(a: Operand, b: Operand, keep: ReadonlySet<string>): Operand {
  const inB = new Set(b.labels);
  const inA = new Set(a.labels);
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
  const summed = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const freeA = a.labels.filter((l) => !inB.has(l));
  const freeB = b.labels.filter((l) => !inA.has(l));
  const sizes = new Map<string, number>();
  for (const l of [...a.labels, ...b.labels]) {
    const size = Math.max(inA.has(l) ? sizeOfLabel(a, l) : 1, inB.has(l) ? sizeOfLabel(b, l) : 1);
    sizes.set(l, size);
  }
  const prod = (ls: readonly string[]) => ls.reduce((n, l) => n * (sizes.get(l) as number), 1);
  const left = tf.reshape(arrange(a, [...batch, ...freeA, ...summed], sizes), [
    prod(batch),
    prod(freeA),
    prod(summed),
  ]);
  const right = tf.reshape(arrange(b, [...batch, ...summed, ...freeB], sizes), [
    prod(batch),
    prod(summed),
    prod(freeB),
  ]);
  const labels = [...batch, ...freeA, ...freeB];
  const product = tf.matMul(left, right);
  return {
    tensor: tf.reshape(
      product,
      labels.map((l) => sizes.get(l) as number),
    ),
    labels,
  };
}

/** Evaluates einsum with transposes, sums and batched matrix products (all differentiable). */
export function einsum(spec: EinsumSpec, tensors: readonly tf.Tensor[], equation: string): tf.Tensor {
  if (tensors.length !== spec.operands.length) {
    throw new InvalidArgumentError(
      `einsum equation "${equation}" names ${spec.operands.length} operands, got ${tensors.length} inputs`,
    );
  }
  let operands: Operand[] = tensors.map((tensor, i) => ({
    tensor,
    labels: expandEllipsis(spec.operands[i] as string[], tensor.rank, equation),
  }));
  const dots = maxEllipsis(operands);
  if (spec.output && !spec.output.includes(ELLIPSIS) && dots > 0) {
    throw new InvalidArgumentError(
      `einsum equation "${equation}": "..." on the inputs needs "..." on the output`,
    );
  }
  const output = spec.output
    ? expandEllipsis(
        spec.output,
        spec.output.includes(ELLIPSIS) ? dots + spec.output.length - 1 : spec.output.length,
        equation,
      )
    : implicitOutput(operands);
  const neededLater = (from: number): Set<string> =>
    new Set([...output, ...operands.slice(from).flatMap((o) => o.labels)]);
  const initial = operands;
  operands = initial.map((op, i) =>
    sumOut(op, new Set(op.labels.filter((l) => isNeeded(l, i, initial, output)))),
  );
  let acc = operands[0] as Operand;
  for (let i = 1; i < operands.length; i++) {
    acc = contract(acc, operands[i] as Operand, neededLater(i + 1));
  }
  acc = sumOut(acc, new Set(output));
  const perm = output.map((l) => acc.labels.indexOf(l));
  if (perm.some((p) => p < 0)) {
    throw new InvalidArgumentError(
      `einsum equation "${equation}": an output label does not occur on the inputs`,
    );
  }
  return perm.every((p, i) => p === i) ? tf.clone(acc.tensor) : tf.transpose(acc.tensor, perm);
}

function isNeeded(
  label: string,
  index: number,
  operands: readonly Operand[],
  output: readonly string[],
): boolean {
  return output.includes(label) || operands.some((o, j) => j !== index && o.labels.includes(label));
}

function maxEllipsis(operands: readonly Operand[]): number {
  return Math.max(0, ...operands.map((o) => o.labels.filter((l) => l.startsWith('…')).length));
}

/** Without "->": broadcast dims, then labels that occur once, alphabetically. */
function implicitOutput(operands: readonly Operand[]): string[] {
  const counts = new Map<string, number>();
  for (const o of operands) for (const l of o.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const dots = Array.from({ length: maxEllipsis(operands) }, (_, i) => `…${maxEllipsis(operands) - 1 - i}`);
  const once = [...counts].filter(([l, n]) => n === 1 && !l.startsWith('…')).map(([l]) => l);
  return [...dots, ...once.sort()];
}
