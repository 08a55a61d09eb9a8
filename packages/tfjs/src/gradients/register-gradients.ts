import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig } from '@tensorflow/tfjs-core';
import { binaryGradients, unaryGradients } from './elementwise-gradients';
import { nnGradients } from './nn-gradients';
import { reductionGradients, shapeGradients } from './shape-gradients';

/**
 * Gradients for the kernels this adapter runs. tfjs-core's Node build registers none
 * (only the @tensorflow/tfjs bundle does), so without these every tf.grad call fails.
 */
export const ADAPTER_GRADIENTS: readonly GradConfig[] = [
  ...unaryGradients,
  ...binaryGradients,
  ...reductionGradients,
  ...shapeGradients,
  ...nnGradients,
];

/**
 * Registers our gradient for each kernel that has none; gradients already registered
 * (for example by @tensorflow/tfjs, which tfjs-node loads) are left in place.
 * Returns the kernel names registered by this call.
 */
export function registerMissingGradients(): string[] {
  const added: string[] = [];
  for (const config of ADAPTER_GRADIENTS) {
    if (tf.getGradient(config.kernelName) === undefined) {
      tf.registerGradient(config);
      added.push(config.kernelName);
    }
  }
  return added;
}
