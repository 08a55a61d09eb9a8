import { type ConvolutionMode, convOp, convTransposeOp } from './conv-ops';
import { ELEMENTWISE_OPS } from './elementwise-ops';
import { INDEXING_OPS } from './indexing-ops';
import { LINEAR_ALGEBRA_OPS } from './linear-algebra-ops';
import { NORMALIZATION_OPS } from './normalization-ops';
import type { OpDefinition } from './op-types';
import { REDUCTION_OPS } from './reduction-ops';
import { RESIZE_OPS } from './resize-ops';
import { SHAPE_OPS } from './shape-ops';

export type { ConvolutionMode } from './conv-ops';
export type { OpContext, OpDefinition } from './op-types';

/** The ai.onnx operators the executor runs, keyed by op_type. */
export function operatorTable(convolution: ConvolutionMode): Record<string, OpDefinition> {
  return {
    ...ELEMENTWISE_OPS,
    ...LINEAR_ALGEBRA_OPS,
    ...NORMALIZATION_OPS,
    ...REDUCTION_OPS,
    ...SHAPE_OPS,
    ...INDEXING_OPS,
    ...RESIZE_OPS,
    Conv: convOp(convolution),
    ConvTranspose: convTransposeOp(convolution),
  };
}

/** Names of the supported ONNX operators (domain ai.onnx), sorted. */
export const SUPPORTED_OPERATORS: readonly string[] = Object.keys(operatorTable('auto')).sort();
