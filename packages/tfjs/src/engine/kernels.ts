import * as tf from '@tensorflow/tfjs-core';

/** Whether the active tfjs backend has a kernel (the wasm engine lacks some gradient kernels). */
export function activeBackendHasKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}
