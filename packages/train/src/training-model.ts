import {
  type Backend,
  type DenoiserSpec,
  disposeAll,
  type GuidancePass,
  idsFeed,
  InvalidArgumentError,
  type Model,
  type ModelFeeds,
  ModelSignatureError,
  type RefinerFamily,
  type RgbImage,
  type Scheduler,
  type Tensor,
  UnsupportedOptionError,
} from '@noiserefine/core';
import { makePerturbedAttentionModelBytes } from '@noiserefine/onnx';
import { type Condition, type ConditionKind, conditionsKind } from './conditions';

/** The denoiser's feeds for one batch of conditions, per guidance pass. */
export interface BatchConditioning {
  conditioning(pass: GuidancePass): ModelFeeds;
  /** Frees what the conditioning allocated (prompt embeddings). */
  dispose(): void;
}

/** The family's denoiser conditioned on one batch, as the sampling loop and MSD call it. */
export interface ConditionedDenoiser {
  spec: DenoiserSpec;
  dispose(): void;
}

export interface TrainingModelOptions {
  family: RefinerFamily;
  /** The base model's name, recorded in targets and refiners. */
  baseModel: string;
  /** Runs the frozen models (onnxruntime-node). */
  backend: Backend;
  /** The denoiser on `backend`. */
  denoiser: Model;
  /** Its ONNX bytes: the refiner graph and the perturbed-attention variant are made from them. */
  denoiserBytes: Uint8Array;
  sampleInput: string;
  timestepInput: string;
  output: string;
  /** Maps the scheduler's timestep to the model's, when they differ. */
  timestepValue?: (timestep: number) => number;
  scheduler: Scheduler;
  /** [C, H, W]. */
  latentShape: readonly number[];
  conditionKind: ConditionKind;
  /** Feeds for a batch of conditions. */
  conditioning(conditions: readonly Condition[]): Promise<BatchConditioning>;
  /** Checks one condition (a label in range, a non-empty prompt); throws a typed error otherwise. */
  checkCondition?(condition: Condition): void;
  /** Channels CFG applies to (SiT/DiT: 3 of 4); all when absent. */
  cfgChannels?: number;
  /** Latents → RGB images (the VAE decoder), for validation grids. */
  decode?(latents: Tensor): Promise<RgbImage[]>;
  /** Releases everything the model holds (default: the denoiser). */
  dispose?(): Promise<void>;
}

/**
 * A frozen diffusion model as refiner training sees it: its denoiser (run on an inference
 * runtime), scheduler, latent shape, and how a batch of labels or prompts becomes the
 * denoiser's conditioning for each guidance pass.
 */
export class TrainingModel {
  #perturbed: Model | undefined;
  #perturbedLayers: string | undefined;

  constructor(readonly options: TrainingModelOptions) {
    if (options.latentShape.length !== 3 || options.latentShape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new InvalidArgumentError(
        `training model: expected latentShape [C, H, W] of positive integers, got [${options.latentShape.join(', ')}]`,
      );
    }
  }

  get family(): RefinerFamily {
    return this.options.family;
  }

  get baseModel(): string {
    return this.options.baseModel;
  }

  get backend(): Backend {
    return this.options.backend;
  }

  get scheduler(): Scheduler {
    return this.options.scheduler;
  }

  get latentShape(): readonly number[] {
    return this.options.latentShape;
  }

  get conditionKind(): ConditionKind {
    return this.options.conditionKind;
  }

  get denoiserBytes(): Uint8Array {
    return this.options.denoiserBytes;
  }

  /** The noise end of the trajectory, where the refiner is called: t = 0 for SiT's flow, T − 1 = 999 for SD. */
  get refinerTimestep(): number {
    return this.family === 'sit' ? 0 : this.scheduler.numTrainTimesteps - 1;
  }

  /** Loads the perturbed-attention variant of the denoiser that PAG's extra pass runs. */
  async enablePerturbedAttention(appliedLayers?: readonly string[]): Promise<void> {
    const key = JSON.stringify(appliedLayers ?? null);
    if (this.#perturbed && this.#perturbedLayers === key) return;
    await this.#perturbed?.dispose();
    const bytes = makePerturbedAttentionModelBytes(
      this.denoiserBytes,
      appliedLayers ? { appliedLayers } : {},
    );
    this.#perturbed = await this.backend.loadModel(bytes);
    this.#perturbedLayers = key;
  }

  /** Throws typed errors for conditions of the wrong kind or out of range. */
  checkConditions(conditions: readonly Condition[], what = 'conditions'): void {
    const kind = conditionsKind(conditions, what);
    if (kind !== this.conditionKind) {
      throw new UnsupportedOptionError('condition kind', kind, [this.conditionKind], {
        context: `${this.baseModel} (${this.family})`,
      });
    }
    for (const c of conditions) this.options.checkCondition?.(c);
  }

  /** The denoiser spec for one batch of conditions; dispose it when the batch is done. */
  async conditioned(conditions: readonly Condition[]): Promise<ConditionedDenoiser> {
    this.checkConditions(conditions);
    const batch = await this.options.conditioning(conditions);
    const { denoiser, sampleInput, timestepInput, output, timestepValue } = this.options;
    return {
      spec: {
        model: denoiser,
        perturbedModel: this.#perturbed,
        sampleInput,
        timestepInput,
        output,
        timestepValue,
        conditioning: (pass) => batch.conditioning(pass),
      },
      dispose: () => batch.dispose(),
    };
  }

  async decode(latents: Tensor): Promise<RgbImage[] | undefined> {
    return this.options.decode?.(latents);
  }

  get canDecode(): boolean {
    return this.options.decode !== undefined;
  }

  async dispose(): Promise<void> {
    await this.#perturbed?.dispose();
    this.#perturbed = undefined;
    await (this.options.dispose ? this.options.dispose() : this.options.denoiser.dispose());
  }
}

function outputOf(model: Model, candidates: readonly string[]): string {
  const found = candidates.find((c) => model.outputs.some((o) => o.name === c)) ?? model.outputs[0]?.name;
  if (found === undefined) throw new ModelSignatureError('denoiser: expected at least one output, got none');
  return found;
}

export interface SiTTrainingModelOptions {
  backend: Backend;
  /** The SiT transformer's ONNX bytes (inputs x, t, y). */
  denoiserBytes: Uint8Array;
  scheduler: Scheduler;
  latentShape: readonly number[];
  /** Real classes; the null class (unconditional) is `numClasses`. */
  numClasses: number;
  baseModel: string;
  cfgChannels?: number;
  decode?: TrainingModelOptions['decode'];
  dispose?: TrainingModelOptions['dispose'];
}

/** A class-conditional SiT transformer (inputs x, t, y; null class = numClasses). */
export async function sitTrainingModel(options: SiTTrainingModelOptions): Promise<TrainingModel> {
  const denoiser = await options.backend.loadModel(options.denoiserBytes);
  const yInfo = denoiser.inputs.find((i) => i.name === 'y');
  if (
    !yInfo ||
    !denoiser.inputs.some((i) => i.name === 'x') ||
    !denoiser.inputs.some((i) => i.name === 't')
  ) {
    await denoiser.dispose();
    throw new ModelSignatureError(
      `SiT denoiser: expected inputs x, t, y; got ${denoiser.inputs.map((i) => i.name).join(', ')}`,
    );
  }
  const { numClasses } = options;
  return new TrainingModel({
    family: 'sit',
    baseModel: options.baseModel,
    backend: options.backend,
    denoiser,
    denoiserBytes: options.denoiserBytes,
    sampleInput: 'x',
    timestepInput: 't',
    output: outputOf(denoiser, ['output', 'velocity', 'out']),
    scheduler: options.scheduler,
    latentShape: options.latentShape,
    conditionKind: 'label',
    cfgChannels: options.cfgChannels,
    decode: options.decode,
    dispose: async () => {
      await denoiser.dispose();
      await options.dispose?.();
    },
    checkCondition: (c) => {
      const label = 'label' in c ? c.label : Number.NaN;
      if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
        throw new InvalidArgumentError(
          `class label: expected an integer in [0, ${numClasses - 1}] for ${options.baseModel}, got ${JSON.stringify(c)}`,
        );
      }
    },
    conditioning: async (conditions) => {
      const labels = conditions.map((c) => ('label' in c ? c.label : 0));
      const nulls = labels.map(() => numClasses);
      return {
        conditioning: (pass) => ({
          y: idsFeed(yInfo, pass === 'uncond' ? nulls : labels, [labels.length]),
        }),
        dispose: () => {},
      };
    },
  });
}

/** Prompt embeddings of one batch, as a text-to-image pipeline's encoder makes them. */
export interface PromptEmbeddings {
  /** Feeds of the conditional pass (encoder_hidden_states, and for SDXL text_embeds, time_ids). */
  cond: Record<string, Tensor>;
  /** Feeds of the unconditional pass (the empty negative prompt). */
  uncond: Record<string, Tensor>;
}

export interface TextTrainingModelOptions {
  family: 'stable-diffusion' | 'stable-diffusion-xl';
  backend: Backend;
  /** The UNet's ONNX bytes (inputs sample, timestep, encoder_hidden_states, …). */
  denoiserBytes: Uint8Array;
  scheduler: Scheduler;
  latentShape: readonly number[];
  baseModel: string;
  /** Encodes a batch of prompts (and the empty negative prompt) on `backend`. */
  encodePrompts(prompts: readonly string[]): Promise<PromptEmbeddings>;
  decode?: TrainingModelOptions['decode'];
  dispose?: TrainingModelOptions['dispose'];
}

/** A text-conditioned UNet (Stable Diffusion 1.x/2.x or XL). */
export async function textTrainingModel(options: TextTrainingModelOptions): Promise<TrainingModel> {
  const denoiser = await options.backend.loadModel(options.denoiserBytes);
  for (const name of ['sample', 'timestep', 'encoder_hidden_states']) {
    if (!denoiser.inputs.some((i) => i.name === name)) {
      await denoiser.dispose();
      throw new ModelSignatureError(
        `${options.family} UNet: expected inputs sample, timestep, encoder_hidden_states; got ${denoiser.inputs.map((i) => i.name).join(', ')}`,
      );
    }
  }
  return new TrainingModel({
    family: options.family,
    baseModel: options.baseModel,
    backend: options.backend,
    denoiser,
    denoiserBytes: options.denoiserBytes,
    sampleInput: 'sample',
    timestepInput: 'timestep',
    output: outputOf(denoiser, ['out_sample']),
    scheduler: options.scheduler,
    latentShape: options.latentShape,
    conditionKind: 'prompt',
    decode: options.decode,
    dispose: async () => {
      await denoiser.dispose();
      await options.dispose?.();
    },
    conditioning: async (conditions) => {
      const prompts = conditions.map((c) => ('prompt' in c ? c.prompt : ''));
      const { cond, uncond } = await options.encodePrompts(prompts);
      return {
        conditioning: (pass) => (pass === 'uncond' ? uncond : cond),
        dispose: () => disposeAll(...new Set([...Object.values(cond), ...Object.values(uncond)])),
      };
    },
  });
}
