import type { Backend, Model } from '../backend/model';
import { InvalidArgumentError } from '../errors';
import type { GuidancePass } from '../guidance/guidance';
import type { Scheduler } from '../schedulers/scheduler';
import { disposeAll } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import { ModelFolder } from './model-folder';
import { pickOutput, requireInputs } from './model-io';
import type { DenoiserSpec } from './pass-runner';
import {
  type CommonGenerateOptions,
  type PipelineLoadOptions,
  type GenerateResult,
  checkStepCount,
  loadComponent,
  sampleAndDecode,
  resolveGuidance,
  resolvePipelineBackend,
} from './pipeline-common';
import { loadFolderScheduler } from './scheduler-loader';
import { type PromptTokenizer, encodeText } from './text-conditioning';
import { loadPromptTokenizer } from './tokenizer-loader';

export interface TextToImageOptions extends CommonGenerateOptions {
  prompt: string | readonly string[];
  negativePrompt?: string | readonly string[];
  height?: number;
  width?: number;
}

/** Sizes read from the unet and vae configs, as diffusers derives them. */
export interface LatentGeometry {
  sampleSize: number;
  inChannels: number;
  /** 2^(len(vae block_out_channels) − 1): 8 for the real VAEs. */
  vaeScaleFactor: number;
  scalingFactor: number;
}

export async function readLatentGeometry(
  folder: ModelFolder,
  defaultScaling: number,
): Promise<LatentGeometry> {
  const unet = await folder.readJson('unet/config.json');
  const vae = await folder.readJson('vae_decoder/config.json');
  const blocks = Array.isArray(vae.block_out_channels) ? vae.block_out_channels.length : 4;
  return {
    sampleSize: Number(unet.sample_size ?? 64),
    inChannels: Number(unet.in_channels ?? 4),
    vaeScaleFactor: 2 ** (blocks - 1),
    scalingFactor: Number(vae.scaling_factor ?? defaultScaling),
  };
}

export function promptList(prompt: string | readonly string[], what = 'prompt'): string[] {
  const list = typeof prompt === 'string' ? [prompt] : [...prompt];
  if (list.length === 0) throw new InvalidArgumentError(`${what}: expected at least one prompt`);
  return list;
}

/** negativePrompt broadcast to the prompt batch (default: the empty prompt). */
export function negativeList(negative: string | readonly string[] | undefined, batch: number): string[] {
  if (negative === undefined) return new Array<string>(batch).fill('');
  const list = typeof negative === 'string' ? new Array<string>(batch).fill(negative) : [...negative];
  if (list.length !== batch) {
    throw new InvalidArgumentError(
      `negativePrompt: expected ${batch} prompts (one per prompt), got ${list.length}`,
    );
  }
  return list;
}

export function latentShape(
  geometry: LatentGeometry,
  batch: number,
  height?: number,
  width?: number,
): number[] {
  const h = height ?? geometry.sampleSize * geometry.vaeScaleFactor;
  const w = width ?? geometry.sampleSize * geometry.vaeScaleFactor;
  if (h % geometry.vaeScaleFactor !== 0 || w % geometry.vaeScaleFactor !== 0) {
    throw new InvalidArgumentError(
      `height and width must be multiples of the VAE scale factor ${geometry.vaeScaleFactor}, got ${h}×${w}`,
    );
  }
  return [batch, geometry.inChannels, h / geometry.vaeScaleFactor, w / geometry.vaeScaleFactor];
}

/** Stable Diffusion 1.x/2.x: CLIP text encoder, UNet with cross-attention, VAE (scale 0.18215). */
export class StableDiffusionPipeline {
  readonly unetOutput: string;

  constructor(
    readonly backend: Backend,
    readonly tokenizer: PromptTokenizer,
    readonly textEncoder: Model,
    readonly unet: Model,
    readonly vaeDecoder: Model,
    readonly scheduler: Scheduler,
    readonly geometry: LatentGeometry,
    readonly perturbedUnet?: Model,
  ) {
    requireInputs(unet, ['sample', 'timestep', 'encoder_hidden_states'], 'Stable Diffusion UNet');
    requireInputs(textEncoder, ['input_ids'], 'Stable Diffusion text encoder');
    this.unetOutput = pickOutput(unet, ['out_sample'], 'Stable Diffusion UNet');
  }

  static async fromPretrained(dir: string, options: PipelineLoadOptions): Promise<StableDiffusionPipeline> {
    const folder = new ModelFolder(dir);
    const backend = await resolvePipelineBackend(options.backend);
    const [tokenizer, scheduler, geometry] = await Promise.all([
      loadPromptTokenizer(folder, 'tokenizer'),
      loadFolderScheduler(folder, options),
      readLatentGeometry(folder, 0.18215),
    ]);
    const [textEncoder, unet, vaeDecoder] = await Promise.all([
      loadComponent(backend, folder, 'text_encoder'),
      loadComponent(backend, folder, 'unet'),
      loadComponent(backend, folder, 'vae_decoder'),
    ]);
    return new StableDiffusionPipeline(
      backend,
      tokenizer,
      textEncoder,
      unet,
      vaeDecoder,
      scheduler,
      geometry,
    );
  }

  /** Prompt embeddings for the cond and uncond passes, [B, 77, D] each. */
  async encodePrompts(prompts: readonly string[], negatives: readonly string[]) {
    const cond = await encodeText(this.tokenizer, this.textEncoder, prompts, 'last');
    const uncond = await encodeText(this.tokenizer, this.textEncoder, negatives, 'last');
    disposeAll(cond.pooled, uncond.pooled);
    return { cond: cond.hiddenStates, uncond: uncond.hiddenStates };
  }

  denoiserSpec(embeddings: { cond: Tensor; uncond: Tensor }): DenoiserSpec {
    return {
      model: this.unet,
      perturbedModel: this.perturbedUnet,
      sampleInput: 'sample',
      timestepInput: 'timestep',
      output: this.unetOutput,
      conditioning: (pass: GuidancePass) => ({
        encoder_hidden_states: pass === 'uncond' ? embeddings.uncond : embeddings.cond,
      }),
    };
  }

  async generate(options: TextToImageOptions): Promise<GenerateResult> {
    const prompts = promptList(options.prompt);
    const negatives = negativeList(options.negativePrompt, prompts.length);
    const scheduler = (options.scheduler ?? this.scheduler).clone();
    scheduler.setTimesteps(checkStepCount(options.numInferenceSteps ?? 50));
    const shape = latentShape(this.geometry, prompts.length, options.height, options.width);
    const embeddings = await this.encodePrompts(prompts, negatives);
    try {
      return await sampleAndDecode({
        backend: this.backend,
        family: 'stable-diffusion',
        scheduler,
        shape,
        denoiser: this.denoiserSpec(embeddings),
        guidance: resolveGuidance(options, 7.5),
        vaeDecoder: this.vaeDecoder,
        scalingFactor: this.geometry.scalingFactor,
        options,
      });
    } finally {
      disposeAll(embeddings.cond, embeddings.uncond);
    }
  }

  async dispose(): Promise<void> {
    await Promise.all([this.textEncoder.dispose(), this.unet.dispose(), this.vaeDecoder.dispose()]);
  }
}
