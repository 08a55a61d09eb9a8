import type * as tf from '@tensorflow/tfjs-core';
import {
  AbortError,
  type HostTensor,
  InvalidArgumentError,
  type Model,
  type ModelFeeds,
  type RunOptions,
  type Tensor,
  type ValueInfo,
  isHostTensor,
  validateFeeds,
  validateOutputNames,
} from '@noiserefine/core';
import type { OnnxGraph } from '../onnx/graph-executor';
import { TfjsTensor, type TfjsTensorBackend } from '../tensor/tfjs-tensor-backend';
import { computeDType, hostToTf, tensorToTf } from './feeds';

/**
 * An ONNX model on tfjs. `run` is the core Model contract (async, any backend's tensors);
 * `forward` is the synchronous path for training: call it inside tf.grad / valueAndGrads
 * with this backend's tensors and gradients reach `graph.variables`.
 */
export class TfjsModel implements Model {
  constructor(
    readonly graph: OnnxGraph,
    readonly tensors: TfjsTensorBackend,
  ) {}

  get inputs(): readonly ValueInfo[] {
    return this.graph.inputs;
  }

  get outputs(): readonly ValueInfo[] {
    return this.graph.outputs;
  }

  /** Trainable initializers by name (empty unless loaded with `trainable`). */
  get variables(): ReadonlyMap<string, tf.Variable> {
    return this.graph.variables;
  }

  #check(feeds: ModelFeeds, options: RunOptions): readonly string[] {
    validateFeeds(this.inputs, feeds, { model: this.graph.modelName });
    const names = options.outputs ?? this.outputs.map((o) => o.name);
    validateOutputNames(this.outputs, names, { model: this.graph.modelName });
    return names;
  }

  #targetOf(name: string) {
    const info = this.inputs.find((i) => i.name === name);
    return computeDType(info?.dtype ?? 'float32');
  }

  #wrapOutputs(raw: Record<string, tf.Tensor>): Record<string, TfjsTensor> {
    return Object.fromEntries(Object.entries(raw).map(([name, t]) => [name, this.tensors.wrap(t)]));
  }

  /** Synchronous run on this backend's tensors and host tensors; recorded for gradients. */
  forward(feeds: ModelFeeds, options: RunOptions = {}): Record<string, TfjsTensor> {
    const names = this.#check(feeds, options);
    const owned: tf.Tensor[] = [];
    const tfFeeds: Record<string, tf.Tensor> = {};
    try {
      for (const [name, value] of Object.entries(feeds)) {
        const target = this.#targetOf(name);
        if (isHostTensor(value)) {
          const t = hostToTf(value as HostTensor, name, target);
          owned.push(t);
          tfFeeds[name] = t;
        } else if (value instanceof TfjsTensor) {
          tfFeeds[name] = value.tensor;
          if (target !== 'float32')
            throw new InvalidArgumentError(`input "${name}" takes integers; pass a HostTensor`);
        } else {
          throw new InvalidArgumentError(
            `input "${name}": forward() takes tensors of the tfjs backend, got one from "${(value as Tensor).backend.name}"; use run() or move it first`,
          );
        }
      }
      return this.#wrapOutputs(this.graph.execute(tfFeeds, names));
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  async run(feeds: ModelFeeds, options: RunOptions = {}): Promise<Record<string, Tensor>> {
    if (options.signal?.aborted) throw new AbortError('model run was aborted before it started');
    const names = this.#check(feeds, options);
    const owned: tf.Tensor[] = [];
    const tfFeeds: Record<string, tf.Tensor> = {};
    try {
      for (const [name, value] of Object.entries(feeds)) {
        const target = this.#targetOf(name);
        if (isHostTensor(value)) {
          const t = hostToTf(value as HostTensor, name, target);
          owned.push(t);
          tfFeeds[name] = t;
        } else {
          const { tensor, owned: isOwned } = await tensorToTf(value as Tensor, target);
          if (isOwned) owned.push(tensor);
          tfFeeds[name] = tensor;
        }
      }
      if (options.signal?.aborted) throw new AbortError('model run was aborted');
      return this.#wrapOutputs(this.graph.execute(tfFeeds, names));
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.graph.dispose();
  }
}
