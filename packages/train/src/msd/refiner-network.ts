import {
  add,
  type DenoiserSpec,
  InvalidArgumentError,
  isHostTensor,
  type ModelFeeds,
  ModelSignatureError,
  NoiseRefineError,
  refinerConfigJson,
  type RefinerMetadata,
  scalarFeed,
  type Tensor,
} from '@noiserefine/core';
import {
  addGuidanceEmbedding,
  decodeModel,
  encodeModel,
  type GuidanceEmbeddingOptions,
  type LoraLayerKind,
  makeRefinerGraph,
  mergeLora,
  REFINER_TRAINABLE_METADATA_KEY,
  setMetadata,
} from '@noiserefine/onnx';
import {
  type ConvolutionMode,
  exportOnnx,
  type TfjsBackend,
  type TfjsModel,
  type TfjsTensor,
} from '@noiserefine/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../atomic-file';
import type { TrainingModel } from '../training-model';

/** What the refiner network is (paper App. D.1: LoRA on the denoiser; Table 14: a network from scratch). */
export type RefinerArchitecture =
  | {
      kind: 'lora';
      rank: number;
      alpha?: number;
      /** Layer patterns (default every layer but the zeroed output projection). */
      targets?: readonly string[];
      include?: readonly LoraLayerKind[];
    }
  | {
      kind: 'standalone';
      hiddenSize?: number;
      depth?: number;
      numHeads?: number;
      mlpRatio?: number;
      patchSize?: number;
    };

/** How a guidance-conditioned refiner embeds w (see addGuidanceEmbedding); its input is always `guidance_scale`. */
export type RefinerGuidanceEmbedding = Omit<GuidanceEmbeddingOptions, 'inputName'>;

export interface RefinerNetworkOptions {
  /** Seed of the initial weights (default 0). */
  seed?: number;
  convolution?: ConvolutionMode;
  /** Condition the refiner on the guidance scale w (paper App. A.4): a `guidance_scale` input [B]. */
  guidanceConditioned?: boolean;
  guidanceEmbedding?: RefinerGuidanceEmbedding;
}

/** The refiner graph with the guidance embedding added to its timestep embedding. */
function withGuidanceEmbedding(
  graph: ReturnType<typeof makeRefinerGraph>,
  architecture: RefinerArchitecture,
  options: RefinerGuidanceEmbedding,
): { model: ReturnType<typeof makeRefinerGraph>['model']; trainable: string[] } {
  try {
    const conditioned = addGuidanceEmbedding(graph.model, options);
    return { model: conditioned.model, trainable: [...graph.trainable, ...conditioned.trainable] };
  } catch (error) {
    if (!NoiseRefineError.isInstance(error) || error.name !== 'ModelSignatureError') throw error;
    const what = architecture.kind === 'lora' ? 'the denoiser' : 'the standalone network';
    throw new ModelSignatureError(
      `guidance-conditioned ${architecture.kind} refiner: expected ${what} to have one timestep embedding to add the guidance-scale embedding to; ${error.message}`,
      { cause: error },
    );
  }
}

/**
 * The refiner being trained: its ONNX graph on tfjs with the LoRA matrices and the zeroed
 * output projection (or the whole standalone network) as variables. It is called like the
 * denoiser's conditional pass at the noise-end timestep; its output is the residual g.
 * A guidance-conditioned refiner also takes `guidance_scale` [B], embedded into its timestep
 * embedding by a zero-initialised projection that trains with the rest.
 */
export class RefinerNetwork {
  private constructor(
    readonly model: TfjsModel,
    readonly training: TrainingModel,
    readonly architecture: RefinerArchitecture,
    readonly tfjs: TfjsBackend,
    readonly guidanceConditioned: boolean,
  ) {}

  static async create(
    training: TrainingModel,
    architecture: RefinerArchitecture,
    tfjs: TfjsBackend,
    options: RefinerNetworkOptions = {},
  ): Promise<RefinerNetwork> {
    const plain = makeRefinerGraph(training.denoiserBytes, {
      ...architecture,
      ...(architecture.kind === 'standalone' ? { latentShape: training.latentShape } : {}),
      seed: options.seed ?? 0,
      family: training.family,
      baseModel: training.baseModel,
    } as Parameters<typeof makeRefinerGraph>[1]);
    const conditioned = options.guidanceConditioned === true;
    const graph = conditioned
      ? withGuidanceEmbedding(plain, architecture, options.guidanceEmbedding ?? {})
      : plain;
    const convolution = options.convolution ?? (tfjs.engineReport.engine === 'wasm' ? 'patches' : 'auto');
    const model = await tfjs.loadModel(encodeModel(graph.model), {
      trainable: graph.trainable,
      convolution,
    });
    return new RefinerNetwork(model, training, architecture, tfjs, conditioned);
  }

  get variables() {
    return this.model.variables;
  }

  /**
   * The conditional feeds of a batch as the tfjs model takes them (float tensors copied over);
   * a guidance-conditioned refiner also needs each sample's guidance scale.
   */
  async feeds(
    spec: DenoiserSpec,
    batch: number,
    guidanceScales?: ArrayLike<number>,
  ): Promise<{ feeds: ModelFeeds; dispose(): void }> {
    const feeds: ModelFeeds = {};
    const owned: Tensor[] = [];
    if (this.guidanceConditioned) {
      if (guidanceScales?.length !== batch) {
        throw new InvalidArgumentError(
          `guidance-conditioned refiner: expected ${batch} guidance scales (one per sample), got ${guidanceScales === undefined ? 'none' : guidanceScales.length}`,
        );
      }
      const scales = this.tfjs.tensors.fromData(Float32Array.from(guidanceScales), [batch]);
      owned.push(scales);
      feeds.guidance_scale = scales;
    } else if (guidanceScales !== undefined) {
      throw new InvalidArgumentError(
        'refiner: got guidance scales for a refiner that is not guidance-conditioned; expected none (create it with guidanceConditioned: true)',
      );
    }
    for (const [name, value] of Object.entries(spec.conditioning('cond'))) {
      if (isHostTensor(value)) {
        feeds[name] = value;
      } else {
        const copy = this.tfjs.tensors.fromData(await value.data(), value.shape);
        owned.push(copy);
        feeds[name] = copy;
      }
    }
    const info = this.model.inputs.find((i) => i.name === spec.timestepInput);
    if (!info) {
      throw new ModelSignatureError(
        `refiner: expected an input "${spec.timestepInput}", got ${this.model.inputs.map((i) => i.name).join(', ')}`,
      );
    }
    const t = this.training.refinerTimestep;
    feeds[spec.timestepInput] = scalarFeed(info, spec.timestepValue?.(t) ?? t, batch);
    return {
      feeds,
      dispose: () => {
        for (const o of owned) o.dispose();
      },
    };
  }

  /**
   * x̂_T = x_T + g(x_T, c) on tfjs. Call it inside a gradient tape (valueAndGrads), which
   * releases the intermediates, or through `refineValues`.
   */
  refine(noise: Tensor, spec: DenoiserSpec, feeds: ModelFeeds): Tensor {
    const outputs = this.model.forward({ ...feeds, [spec.sampleInput]: noise }, { outputs: [spec.output] });
    return add(noise, outputs[spec.output] as Tensor);
  }

  /** x̂_T's values, with nothing recorded and nothing left allocated. */
  async refineValues(noise: Tensor, spec: DenoiserSpec, feeds: ModelFeeds): Promise<Float32Array> {
    const refined = tf.tidy(() => (this.refine(noise, spec, feeds) as TfjsTensor).tensor);
    try {
      return Float32Array.from((await refined.data()) as Float32Array);
    } finally {
      refined.dispose();
    }
  }

  /**
   * The refiner file a NoiseRefiner loads: ONNX with LoRA merged into the weights, and
   * config.json; a guidance-conditioned refiner keeps its `guidance_scale` input.
   */
  async export(dir: string, training: Record<string, unknown>): Promise<RefinerMetadata> {
    let proto = decodeModel(await exportOnnx(this.model));
    if (this.architecture.kind === 'lora') proto = mergeLora(proto);
    const metadata: RefinerMetadata = {
      family: this.training.family,
      baseModel: this.training.baseModel,
      kind: this.architecture.kind,
      timestep: this.training.refinerTimestep,
      latentShape: [...this.training.latentShape],
      guidanceConditioned: this.guidanceConditioned,
      training,
    };
    setMetadata(proto, {
      [REFINER_TRAINABLE_METADATA_KEY]: undefined,
      timestep: String(metadata.timestep),
      latent_shape: JSON.stringify(metadata.latentShape),
    });
    await writeFileAtomic(join(dir, 'model.onnx'), encodeModel(proto));
    await writeJsonAtomic(join(dir, 'config.json'), refinerConfigJson(metadata));
    return metadata;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
