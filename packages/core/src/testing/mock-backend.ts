import {
  ADAPTER_API_VERSION,
  type Backend,
  type Model,
  type ModelFeeds,
  type ModelSource,
  type ValueInfo,
} from '../backend/model';
import { ModelLoadError } from '../errors';
import { referenceBackend } from '../tensor/reference-backend';
import type { Tensor } from '../tensor/tensor';

export interface MockModelSpec {
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  /** Computes the outputs from the feeds, in plain TypeScript. */
  run(feeds: ModelFeeds): Promise<Record<string, Tensor>> | Record<string, Tensor>;
}

export interface MockBackend extends Backend {
  /** Every run call, in order: which model (by matched key) and its feeds. */
  readonly calls: { model: string; feeds: ModelFeeds }[];
}

function sourcePath(source: ModelSource): string {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return source.href;
  if (source instanceof Uint8Array) return '<bytes>';
  return sourcePath(source.model);
}

/**
 * A Backend whose models are TypeScript functions, chosen by the end of the path they
 * are loaded from (e.g. "unet/model.onnx"). Tensors live on the reference backend.
 * For testing pipelines and training loops without a runtime; it records every call.
 */
export function mockBackend(models: Record<string, MockModelSpec>): MockBackend {
  const calls: { model: string; feeds: ModelFeeds }[] = [];
  return {
    name: 'mock',
    apiVersion: ADAPTER_API_VERSION,
    tensors: referenceBackend,
    calls,
    async loadModel(source: ModelSource): Promise<Model> {
      const path = sourcePath(source);
      const key = Object.keys(models).find((k) => path.endsWith(k));
      const spec = key === undefined ? undefined : models[key];
      if (key === undefined || !spec) {
        throw new ModelLoadError(
          path,
          `no mock model registered for it (known: ${Object.keys(models).join(', ')})`,
        );
      }
      return {
        inputs: spec.inputs,
        outputs: spec.outputs,
        async run(feeds) {
          calls.push({ model: key, feeds });
          return spec.run(feeds);
        },
        async dispose() {},
      };
    },
  };
}
