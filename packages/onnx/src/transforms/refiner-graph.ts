import { InvalidArgumentError } from '@noiserefine/core';
import { getMetadata, setMetadata } from '../builder/metadata';
import { decodeModel, type ModelProto, onnx, type TensorProto } from '../proto';
import { injectLora, loraLayers } from './lora';
import type { LoraLayerKind } from './lora-layers';
import { zeroedTensor } from './lora-tensors';
import { findOutputProjection, type OutputProjection } from './refiner-graph-head';
import { buildStandaloneRefiner, type StandaloneRefinerOptions } from './refiner-graph-standalone';

export {
  injectLora,
  LORA_METADATA_KEY,
  type LoraLayerRecord,
  type LoraOptions,
  loraLayers,
  mergeLora,
  selectLoraLayers,
} from './lora';
export {
  describeLayers,
  findWeightedLayers,
  LORA_LAYER_KINDS,
  type LoraLayerKind,
  type LoraWeightLayout,
  type WeightedLayer,
} from './lora-layers';
export { findOutputProjection, type OutputProjection } from './refiner-graph-head';
export type { StandaloneRefinerOptions } from './refiner-graph-standalone';

/** metadata_props key listing the initializers a trainer should update (a JSON array). */
export const REFINER_TRAINABLE_METADATA_KEY = 'refiner_trainable';

/** The denoiser itself with LoRA, called at the noise-end timestep (paper App. D.1). */
export interface LoraRefinerOptions {
  kind: 'lora';
  rank: number;
  /** Default: rank (update scale 1). */
  alpha?: number;
  /** Layer patterns (see injectLora); default every attention, feed-forward and conv layer. */
  targets?: readonly string[];
  include?: readonly LoraLayerKind[];
  /** Seed of LoRA's A matrices (default 0). */
  seed?: number;
  /** The output whose projection is re-initialised (default the first). */
  output?: string;
}

export type RefinerGraphOptions = (LoraRefinerOptions | StandaloneRefinerOptions) & {
  /** Written to metadata_props: the pipeline family ('sit', 'stable-diffusion', 'stable-diffusion-xl'). */
  family: string;
  /** Written to metadata_props: the model the refiner is trained for. */
  baseModel: string;
};

export interface RefinerGraph {
  /** The refiner, with the denoiser's input and output names; its output is exactly 0 for now. */
  model: ModelProto;
  /** Initializers to train: LoRA's A and B and the zeroed output projection, or every parameter of a standalone network. */
  trainable: string[];
  /** The re-initialised output projection ('lora' only). */
  outputProjection?: OutputProjection;
}

/**
 * Makes a noise refiner g(x_T, c) from a denoiser. It keeps the denoiser's input and output
 * names, so it is called like the denoiser's conditional pass at the noise-end timestep, and
 * its output is the residual: x̂_T = x_T + g. 'lora' adds LoRA to the denoiser and
 * re-initialises the last weighted layer before the output (and its biases) to zero, trained
 * in full; 'standalone' builds a small transformer with a zero output layer. Either way g ≡ 0
 * at initialisation, so x̂_T = x_T. metadata_props record family, base_model, kind and the
 * trainable initializers.
 */
export function makeRefinerGraph(
  denoiser: ModelProto | Uint8Array,
  options: RefinerGraphOptions,
): RefinerGraph {
  const source = denoiser instanceof Uint8Array ? decodeModel(denoiser) : denoiser;
  if (!source.graph)
    throw new InvalidArgumentError('makeRefinerGraph: expected a model with a graph, got none');
  for (const key of ['family', 'baseModel'] as const) {
    if (typeof options[key] !== 'string' || options[key] === '') {
      throw new InvalidArgumentError(
        `makeRefinerGraph: expected "${key}" to be a non-empty string, got ${JSON.stringify(options[key])}`,
      );
    }
  }
  const metadata = { family: options.family, base_model: options.baseModel, kind: options.kind };
  if (options.kind === 'standalone') {
    const model = buildStandaloneRefiner(source, options, metadata);
    const trainable = (model.graph?.initializer ?? []).map((t) => t.name ?? '');
    setMetadata(model, { [REFINER_TRAINABLE_METADATA_KEY]: JSON.stringify(trainable) });
    return { model, trainable };
  }
  if (options.kind !== 'lora') {
    throw new InvalidArgumentError(
      `makeRefinerGraph: expected kind "lora" or "standalone", got ${JSON.stringify((options as { kind: unknown }).kind)}`,
    );
  }

  const head = findOutputProjection(source.graph, options.output);
  const adapted = injectLora(source, {
    rank: options.rank,
    alpha: options.alpha,
    targets: options.targets ?? ['.*'],
    include: options.include,
    seed: options.seed,
    excludeWeights: [head.weight],
  });
  const zeroed = new Set([head.weight, ...head.biases]);
  const graph = adapted.graph as NonNullable<ModelProto['graph']>;
  const model = onnx.ModelProto.create({
    ...adapted,
    graph: {
      ...graph,
      initializer: (graph.initializer as TensorProto[]).map((t) =>
        zeroed.has(t.name ?? '') ? zeroedTensor(t) : t,
      ),
    },
  });
  const trainable = [...loraLayers(model).flatMap((l) => [l.a, l.b]), ...zeroed];
  setMetadata(model, {
    ...metadata,
    [REFINER_TRAINABLE_METADATA_KEY]: JSON.stringify(trainable),
  });
  return { model, trainable, outputProjection: head };
}

/** The trainable initializers a refiner graph records (empty for other models). */
export function refinerTrainable(model: Pick<ModelProto, 'metadataProps'>): string[] {
  const raw = getMetadata(model)[REFINER_TRAINABLE_METADATA_KEY];
  return raw ? (JSON.parse(raw) as string[]) : [];
}
