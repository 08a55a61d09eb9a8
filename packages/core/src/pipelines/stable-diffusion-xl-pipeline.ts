import type { Backend, Model } from '../backend/model';
import { ModelSignatureError } from '../errors';
import type { GuidancePass } from '../guidance/guidance';
import type { Scheduler } from '../schedulers/scheduler';
import { concat, disposeAll, scale, tensor } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import { ModelFolder } from './model-folder';
import { pickOutput, requireInputs } from './model-io';
import type { DenoiserSpec } from './pass-runner';
import {
  type PipelineLoadOptions,
  type GenerateResult,
  checkStepCount,
  loadComponent,
  sampleAndDecode,
  resolveGuidance,
  resolvePipelineBackend,
} from './pipeline-common';
import { loadFolderScheduler } from './scheduler-loader';
import {
  type LatentGeometry,
  type TextToImageOptions,
  latentShape,
  negativeList,
  promptList,
  readLatentGeometry,
} from './stable-diffusion-pipeline';
import { type PromptTokenizer, encodeText } from './text-conditioning';
import { loadPromptTokenizer } from './tokenizer-loader';

export interface SDXLGenerateOptions extends TextToImageOptions {
  /** Micro-conditioning (defaults as diffusers: original = target = output size, crop (0, 0)). */
  originalSize?: [number, number];
  cropsCoordsTopLeft?: [number, number];
  targetSize?: [number, number];
}

interface SDXLEmbeddings {
  cond: Tensor;
  uncond: Tensor;
  pooledCond: Tensor;
  pooledUncond: Tensor;
  timeIds: Tensor;
}

/**
 * SDXL: two text encoders (penultimate hidden states concatenated to 2048 features,
 * pooled `text_embeds` of the second), `time_ids` micro-conditioning, VAE scale 0.13025.
 */
export class StableDiffusionXLPipeline {
  readonly unetOutput: string;

  constructor(
    readonly backend: Backend,
    readonly tokenizer: PromptTokenizer,
    readonly tokenizer2: PromptTokenizer,
    readonly textEncoder: Model,
    readonly textEncoder2: Model,
    readonly unet: Model,
    readonly vaeDecoder: Model,
    readonly scheduler: Scheduler,
    readonly geometry: LatentGeometry,
    /** diffusers' force_zeros_for_empty_prompt: an empty negative prompt gives zero embeddings. */
    readonly forceZerosForEmptyPrompt = true,
    readonly perturbedUnet?: Model,
  ) {
    requireInputs(
      unet,
      ['sample', 'timestep', 'encoder_hidden_states', 'text_embeds', 'time_ids'],
      'Stable Diffusion XL UNet',
    );
    this.unetOutput = pickOutput(unet, ['out_sample'], 'Stable Diffusion XL UNet');
  }

  static async fromPretrained(dir: string, options: PipelineLoadOptions): Promise<StableDiffusionXLPipeline> {
    const folder = new ModelFolder(dir);
    const backend = await resolvePipelineBackend(options.backend);
    const index = await folder.readJson('model_index.json');
    const [tokenizer, tokenizer2, scheduler, geometry] = await Promise.all([
      loadPromptTokenizer(folder, 'tokenizer'),
      loadPromptTokenizer(folder, 'tokenizer_2'),
      loadFolderScheduler(folder, options),
      readLatentGeometry(folder, 0.13025),
    ]);
    const [textEncoder, textEncoder2, unet, vaeDecoder] = await Promise.all([
      loadComponent(backend, folder, 'text_encoder'),
      loadComponent(backend, folder, 'text_encoder_2'),
      loadComponent(backend, folder, 'unet'),
      loadComponent(backend, folder, 'vae_decoder'),
    ]);
    return new StableDiffusionXLPipeline(
      backend,
      tokenizer,
      tokenizer2,
      textEncoder,
      textEncoder2,
      unet,
      vaeDecoder,
      scheduler,
      geometry,
      index.force_zeros_for_empty_prompt !== false,
    );
  }

  async #encode(prompts: readonly string[]) {
    const a = await encodeText(this.tokenizer, this.textEncoder, prompts, 'penultimate');
    const b = await encodeText(this.tokenizer2, this.textEncoder2, prompts, 'penultimate');
    if (!b.pooled) {
      throw new ModelSignatureError('SDXL text_encoder_2 must output text_embeds (the pooled projection)');
    }
    const hidden = concat([a.hiddenStates, b.hiddenStates], 2);
    disposeAll(a.hiddenStates, a.pooled, b.hiddenStates);
    return { hidden, pooled: b.pooled };
  }

  async encodePrompts(
    prompts: readonly string[],
    negatives: readonly string[],
    timeIds: readonly number[],
  ): Promise<SDXLEmbeddings> {
    const cond = await this.#encode(prompts);
    let uncond: { hidden: Tensor; pooled: Tensor };
    if (this.forceZerosForEmptyPrompt && negatives.every((n) => n === '')) {
      uncond = { hidden: scale(cond.hidden, 0), pooled: scale(cond.pooled, 0) };
    } else {
      uncond = await this.#encode(negatives);
    }
    const batch = prompts.length;
    const ids = tensor(
      Float32Array.from({ length: batch * 6 }, (_, i) => timeIds[i % 6] as number),
      [batch, 6],
      this.backend.tensors,
    );
    return {
      cond: cond.hidden,
      uncond: uncond.hidden,
      pooledCond: cond.pooled,
      pooledUncond: uncond.pooled,
      timeIds: ids,
    };
  }

  denoiserSpec(e: SDXLEmbeddings): DenoiserSpec {
    return {
      model: this.unet,
      perturbedModel: this.perturbedUnet,
      sampleInput: 'sample',
      timestepInput: 'timestep',
      output: this.unetOutput,
      conditioning: (pass: GuidancePass) => ({
        encoder_hidden_states: pass === 'uncond' ? e.uncond : e.cond,
        text_embeds: pass === 'uncond' ? e.pooledUncond : e.pooledCond,
        time_ids: e.timeIds,
      }),
    };
  }

  async generate(options: SDXLGenerateOptions): Promise<GenerateResult> {
    const prompts = promptList(options.prompt);
    const negatives = negativeList(options.negativePrompt, prompts.length);
    const scheduler = (options.scheduler ?? this.scheduler).clone();
    scheduler.setTimesteps(checkStepCount(options.numInferenceSteps ?? 50));
    const shape = latentShape(this.geometry, prompts.length, options.height, options.width);
    const height = (shape[2] as number) * this.geometry.vaeScaleFactor;
    const width = (shape[3] as number) * this.geometry.vaeScaleFactor;
    const timeIds = [
      ...(options.originalSize ?? [height, width]),
      ...(options.cropsCoordsTopLeft ?? [0, 0]),
      ...(options.targetSize ?? [height, width]),
    ];
    const embeddings = await this.encodePrompts(prompts, negatives, timeIds);
    try {
      return await sampleAndDecode({
        backend: this.backend,
        family: 'stable-diffusion-xl',
        scheduler,
        shape,
        denoiser: this.denoiserSpec(embeddings),
        guidance: resolveGuidance(options, 5),
        vaeDecoder: this.vaeDecoder,
        scalingFactor: this.geometry.scalingFactor,
        options,
      });
    } finally {
      disposeAll(...Object.values(embeddings));
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(
      [this.textEncoder, this.textEncoder2, this.unet, this.vaeDecoder].map((m) => m.dispose()),
    );
  }
}
