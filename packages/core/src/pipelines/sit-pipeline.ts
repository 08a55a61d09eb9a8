import type { Backend, Model } from '../backend/model';
import { InvalidArgumentError } from '../errors';
import type { GuidancePass } from '../guidance/guidance';
import type { Scheduler } from '../schedulers/scheduler';
import { ModelFolder } from './model-folder';
import { idsFeed, inputInfo, pickOutput, requireInputs } from './model-io';
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

/** `transformer/config.json` of a SiT export (DiT-style names). */
export interface SiTTransformerConfig {
  numClasses: number;
  inputSize: number;
  inChannels: number;
  /** Channels CFG applies to (SiT/DiT reference: 3 of 4); null for all. */
  cfgChannels: number | null;
  /** Default guidance scale for this model. */
  guidanceScale: number;
}

export interface SiTGenerateOptions extends CommonGenerateOptions {
  /** One class label per image. */
  classLabel: number | readonly number[];
}

export const SIT_INPUTS = ['x', 't', 'y'] as const;

/**
 * Class-conditional flow-matching transformer (SiT): x_t = t·x1 + (1 − t)·noise,
 * t = 0 is noise, the model predicts velocity; the null class is `numClasses`.
 */
export class SiTPipeline {
  readonly outputName: string;

  constructor(
    readonly backend: Backend,
    readonly transformer: Model,
    readonly vaeDecoder: Model,
    readonly scheduler: Scheduler,
    readonly config: SiTTransformerConfig,
    readonly vaeScalingFactor: number,
    readonly perturbedTransformer?: Model,
  ) {
    requireInputs(transformer, SIT_INPUTS, 'SiT transformer');
    this.outputName = pickOutput(
      transformer,
      ['output', 'velocity', 'out', transformer.outputs[0]?.name ?? ''],
      'SiT',
    );
  }

  static async fromPretrained(dir: string, options: PipelineLoadOptions): Promise<SiTPipeline> {
    const folder = new ModelFolder(dir);
    const backend = await resolvePipelineBackend(options.backend);
    const raw = await folder.readJson('transformer/config.json');
    const config: SiTTransformerConfig = {
      numClasses: Number(raw.num_classes ?? 1000),
      inputSize: Number(raw.input_size ?? 32),
      inChannels: Number(raw.in_channels ?? 4),
      cfgChannels: raw.cfg_channels == null ? null : Number(raw.cfg_channels),
      guidanceScale: Number(raw.guidance_scale ?? 4),
    };
    const scheduler = await loadFolderScheduler(folder, options);
    const vaeConfig = await folder.readJson('vae_decoder/config.json');
    const [transformer, vaeDecoder] = await Promise.all([
      loadComponent(backend, folder, 'transformer'),
      loadComponent(backend, folder, 'vae_decoder'),
    ]);
    return new SiTPipeline(
      backend,
      transformer,
      vaeDecoder,
      scheduler,
      config,
      Number(vaeConfig.scaling_factor ?? 0.18215),
    );
  }

  /** The unguided/guided denoiser, as the sampling loop and MSD training call it. */
  denoiserSpec(labels: readonly number[]): DenoiserSpec {
    const yInfo = inputInfo(this.transformer, 'y');
    const nullLabels = labels.map(() => this.config.numClasses);
    return {
      model: this.transformer,
      perturbedModel: this.perturbedTransformer,
      sampleInput: 'x',
      timestepInput: 't',
      output: this.outputName,
      conditioning: (pass: GuidancePass) => ({
        y: idsFeed(yInfo, pass === 'uncond' ? nullLabels : labels, [labels.length]),
      }),
    };
  }

  checkLabels(classLabel: number | readonly number[]): number[] {
    const labels = typeof classLabel === 'number' ? [classLabel] : [...classLabel];
    for (const l of labels) {
      if (!Number.isInteger(l) || l < 0 || l >= this.config.numClasses) {
        throw new InvalidArgumentError(
          `classLabel must be an integer in [0, ${this.config.numClasses - 1}], got ${l}`,
        );
      }
    }
    if (labels.length === 0) throw new InvalidArgumentError('classLabel: expected at least one label');
    return labels;
  }

  async generate(options: SiTGenerateOptions): Promise<GenerateResult> {
    const labels = this.checkLabels(options.classLabel);
    const scheduler = (options.scheduler ?? this.scheduler).clone();
    scheduler.setTimesteps(checkStepCount(options.numInferenceSteps ?? 20));
    const size = this.config.inputSize;
    return sampleAndDecode({
      backend: this.backend,
      family: 'sit',
      scheduler,
      shape: [labels.length, this.config.inChannels, size, size],
      denoiser: this.denoiserSpec(labels),
      guidance: resolveGuidance(options, this.config.guidanceScale, this.config.cfgChannels ?? undefined),
      vaeDecoder: this.vaeDecoder,
      scalingFactor: this.vaeScalingFactor,
      options,
    });
  }

  async dispose(): Promise<void> {
    await Promise.all([
      this.transformer.dispose(),
      this.vaeDecoder.dispose(),
      this.perturbedTransformer?.dispose(),
    ]);
  }
}
