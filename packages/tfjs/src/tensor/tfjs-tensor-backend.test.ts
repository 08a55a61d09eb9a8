import * as tf from '@tensorflow/tfjs-core';
import {
  BackendMismatchError,
  DisposedTensorError,
  mean,
  mul,
  referenceBackend,
  square,
  stopGradient,
  sub,
  tensor,
} from '@noiserefine/core';
import { runTensorBackendSuite } from '@noiserefine/core/testing';
import { describe, expect, it } from 'vitest';
import { selectEngine } from '../engine/engine-selection';
import { valueAndGrads } from '../training/value-and-grads';
import { TfjsTensor, TfjsTensorBackend } from './tfjs-tensor-backend';

async function backendOn(engine: 'wasm' | 'cpu'): Promise<TfjsTensorBackend> {
  const report = await selectEngine({ engine });
  return new TfjsTensorBackend(report.location);
}

runTensorBackendSuite({
  name: 'TfjsTensorBackend on the wasm engine',
  createBackend: () => backendOn('wasm'),
});
runTensorBackendSuite({ name: 'TfjsTensorBackend on the cpu engine', createBackend: () => backendOn('cpu') });

describe('TfjsTensorBackend gradients', () => {
  it('differentiates a loss written with core ops on tfjs tensors', async () => {
    const tensors = await backendOn('wasm');
    const w = tf.variable(tf.tensor([0.5, -1, 2], [3]), true, 'core-ops-w');
    const target = tensor([1, 1, 1], [3], tensors);
    // loss = mean((2w − target)²) → d/dw = 4(2w − target)/3
    const { value, grads } = valueAndGrads(() => mean(square(sub(mul(tensors.wrap(w), 2), target))), [w]);
    expect(Array.from(await value.data())).toEqual([Math.fround((0 ** 2 + 3 ** 2 + 3 ** 2) / 3)]);
    const g = Array.from(await (grads.get(w) as tf.Tensor).data());
    [0, -4, 4].forEach((want, i) => {
      expect(g[i]).toBeCloseTo(want, 5);
    });
    tf.dispose([value, ...grads.values(), w]);
    target.dispose();
  });

  it('stopGradient passes values and blocks gradients', async () => {
    const tensors = await backendOn('wasm');
    const w = tf.variable(tf.tensor([1, 2], [2]), true, 'stop-gradient-w');
    const { value, grads } = valueAndGrads(() => {
      const x = tensors.wrap(w);
      // d/dw [w·w + stop(w)·w] = 2w + stop(w) = 3w, not 4w.
      return mean(mul(sub(mul(x, x), mul(stopGradient(x), mul(x, -1))), 1));
    }, [w]);
    expect(Array.from(await (grads.get(w) as tf.Tensor).data())).toEqual([1.5, 3]);
    expect(Array.from(await value.data())).toEqual([5]);
    tf.dispose([value, ...grads.values(), w]);
  });

  it('reports gradients, its location and a synchronous read off the GPU', async () => {
    const tensors = await backendOn('wasm');
    expect(tensors.capabilities).toEqual({ gradients: true, location: 'wasm' });
    const x = tensors.fromData(Float32Array.of(1, 2), [2]);
    expect(Array.from(tensors.readSync?.(x) ?? [])).toEqual([1, 2]);
    x.dispose();
    expect(new TfjsTensorBackend('gpu').readSync).toBeUndefined();
  });

  it('refuses tensors of other backends and disposed tensors with typed errors', async () => {
    const tensors = await backendOn('wasm');
    const foreign = tensor([1], [1], referenceBackend);
    expect(() => tensors.unary('neg', foreign)).toThrow(BackendMismatchError);
    const x = tensors.fromData(Float32Array.of(1), [1]);
    x.dispose();
    expect(x.isDisposed).toBe(true);
    expect(() => tensors.unary('neg', x)).toThrow(DisposedTensorError);
    await expect(x.data()).rejects.toThrow(DisposedTensorError);
  });

  it('wraps non-float tfjs tensors as float32', async () => {
    const tensors = await backendOn('wasm');
    const wrapped = tensors.wrap(tf.tensor([1, 2], [2], 'int32'));
    expect(wrapped).toBeInstanceOf(TfjsTensor);
    expect(wrapped.tensor.dtype).toBe('float32');
    expect(Array.from(await wrapped.data())).toEqual([1, 2]);
    wrapped.dispose();
  });
});
