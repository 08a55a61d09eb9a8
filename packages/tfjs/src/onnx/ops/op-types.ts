import type * as tf from '@tensorflow/tfjs-core';
import { InvalidArgumentError } from '@noiserefine/core';
import type { NodeAttributes } from '../attributes';

/** What an operator implementation sees of its node and the executor. */
export interface OpContext {
  readonly attrs: NodeAttributes;
  /** The model's ai.onnx opset version (attribute vs input forms depend on it). */
  readonly opset: number;
  /** "node_name (OpType)", for messages. */
  readonly where: string;
  /** How many outputs the node declares. */
  readonly outputCount: number;
  /** Host values of a small integer tensor (shapes, axes, indices), read synchronously. */
  ints(t: tf.Tensor): number[];
  /** Host values of a small float tensor (scales, scalars). */
  floats(t: tf.Tensor): number[];
}

export type OpInputs = readonly (tf.Tensor | undefined)[];

export interface OpDefinition {
  run(inputs: OpInputs, ctx: OpContext): tf.Tensor | tf.Tensor[];
  /** Load-time check of attributes; throws for forms the implementation does not cover. */
  check?(ctx: Pick<OpContext, 'attrs' | 'opset' | 'where'>): void;
}

/** Input i, which the operator requires. */
export function required(inputs: OpInputs, i: number, ctx: Pick<OpContext, 'where'>): tf.Tensor {
  const t = inputs[i];
  if (!t) throw new InvalidArgumentError(`${ctx.where}: input ${i} is required but was not given`);
  return t;
}

/** Normalises a possibly negative axis against a rank, with a message naming the node. */
export function normAxis(axis: number, rank: number, ctx: Pick<OpContext, 'where'>): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) {
    throw new InvalidArgumentError(`${ctx.where}: axis ${axis} is out of range for rank ${rank}`);
  }
  return a;
}
