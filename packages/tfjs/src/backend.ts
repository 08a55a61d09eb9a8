import {
  AbortError,
  ADAPTER_API_VERSION,
  type Backend,
  type LoadModelOptions,
  type ModelSource,
} from '@noiserefine/core';
import { type EngineReport, type EngineSelectionOptions, selectEngine } from './engine/engine-selection';
import { resolveModelSource } from './model/model-source';
import { TfjsModel } from './model/tfjs-model';
import { OnnxGraph, type TrainableSelector } from './onnx/graph-executor';
import type { ConvolutionMode } from './onnx/ops/index';
import { TfjsTensorBackend } from './tensor/tfjs-tensor-backend';

export interface TfjsBackendOptions extends EngineSelectionOptions {
  /** Default convolution mode of loaded models (see TfjsLoadModelOptions). */
  convolution?: ConvolutionMode;
}

export interface TfjsLoadModelOptions extends LoadModelOptions {
  /** Float initializers to load as trainable tf.Variables: true for all, a pattern, names, or a predicate. */
  trainable?: TrainableSelector;
  /** 'auto' (tfjs conv kernels where they apply) or 'patches' (matrix products, trainable on every engine). */
  convolution?: ConvolutionMode;
}

/** The tfjs adapter: core's Backend contract plus trainable ONNX models. */
export class TfjsBackend implements Backend {
  readonly name = 'tfjs';
  readonly apiVersion = ADAPTER_API_VERSION;
  readonly tensors: TfjsTensorBackend;
  readonly #models = new Set<TfjsModel>();

  constructor(
    /** Which tfjs engine runs, and why the better ones did not. */
    readonly engineReport: EngineReport,
    readonly options: TfjsBackendOptions = {},
  ) {
    this.tensors = new TfjsTensorBackend(engineReport.location);
  }

  async loadModel(source: ModelSource, options: TfjsLoadModelOptions = {}): Promise<TfjsModel> {
    const resolved = await resolveModelSource(source);
    if (options.signal?.aborted) throw new AbortError(`loading ${resolved.name} was aborted`);
    const graph = new OnnxGraph(resolved.proto, {
      modelName: resolved.name,
      readExternal: resolved.readExternal,
      trainable: options.trainable,
      convolution: options.convolution ?? this.options.convolution,
      freeDimensionOverrides: options.freeDimensionOverrides,
    });
    const model = new TfjsModel(graph, this.tensors);
    this.#models.add(model);
    return model;
  }

  /** Disposes every model this backend loaded (the tfjs engine itself is process-wide). */
  async dispose(): Promise<void> {
    for (const model of this.#models) await model.dispose();
    this.#models.clear();
  }
}

/**
 * Creates the tfjs backend on the best engine installed (tfjs-node-gpu, tfjs-node, wasm, cpu),
 * or the one named by `options.engine`. tfjs has one active engine per process.
 */
export async function tfjsBackend(options: TfjsBackendOptions = {}): Promise<TfjsBackend> {
  return new TfjsBackend(await selectEngine(options), options);
}
