import { InvalidArgumentError } from '@noiserefine/core';
import { NUM_CLASSES } from '../classes';
import { classPrompt } from '../evaluator/evaluate-model';

/** The zoo's models, in the order refiners are trained and benchmarked. */
export const ZOO_MODELS = ['tiny-sit', 'tiny-sd21', 'tiny-sdxl'] as const;
export type ZooModelName = (typeof ZOO_MODELS)[number];

/** Dataset seed of the target prompts: not the training captions (0) nor the evaluation prompts (1). */
export const TARGET_PROMPT_SEED = 2;

/** How one zoo model's refiner is made: guided targets, then MSD (LoRA on the denoiser). */
export interface RefinerRecipe {
  model: string;
  /** Class labels (SiT) or captions (text families) the targets are conditioned on. */
  conditionKind: 'label' | 'prompt';
  numSamples: number;
  /** CFG's w of the targets (the model's default). */
  guidanceScale: number;
  /** PAG's s of the targets (0: CFG alone). */
  pagScale: number;
  pagLayers?: readonly string[];
  /** N′, the guided sampling steps of the targets. */
  targetSteps: number;
  targetBatchSize: number;
  msd: MsdSettings;
}

export interface MsdSettings {
  rank: number;
  steps: number;
  batchSize: number;
  learningRate: number;
  warmup: number;
  /** N, the unguided trajectory's steps. */
  numInferenceSteps: number;
  checkpointEvery: number;
  validateEvery: number;
  seed: number;
}

/**
 * Chosen so each refiner trains in ≤ 15 min on a 2-core CPU (measured ~1.4 s per MSD step
 * at batch 32 on the tfjs wasm engine, tiny-sit, with other trainings running): 500 steps of
 * batch 32 see ~5 epochs of 3,000 targets. On an interim tiny-sit, 300 steps at 3e-4 reached a
 * lower held-out MSD loss (0.168, unrefined 0.447) than 60 steps at 1e-3 (0.199).
 */
export const DEFAULT_MSD_SETTINGS: MsdSettings = {
  rank: 8,
  steps: 500,
  batchSize: 32,
  learningRate: 5e-4,
  warmup: 25,
  numInferenceSteps: 10,
  checkpointEvery: 50,
  validateEvery: 100,
  seed: 0,
};

export const DEFAULT_TARGET_SAMPLES = 3000;

/**
 * MSD steps per model, in the `--steps` syntax of parsePerModel: 1,500 for tiny-sit (its refiner
 * closed 42% of the accuracy gap after 500 steps and 50% after 1,500; held-out MSD loss 0.475 →
 * 0.360, unrefined 1.33), 1,000 for the others, at ~0.6 s per step when the machine is not shared.
 */
export const DEFAULT_MSD_STEPS = 'tiny-sit=1500,1000';

/**
 * A per-model option: "3" for every model, "tiny-sd21=3" for one (others: the plain value,
 * or 0 when there is none), or both: "tiny-sd21=1500,500".
 */
export function parsePerModel(
  option: string,
  raw: string,
  check: { integer: boolean; min: number },
): (model: string) => number {
  const perModel = new Map<string, number>();
  let all: number | undefined;
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value] = part.includes('=') ? part.split('=', 2) : [undefined, part];
    const v = Number(value);
    if (!Number.isFinite(v) || v < check.min || (check.integer && !Number.isInteger(v))) {
      throw new InvalidArgumentError(
        `--${option}: expected ${check.integer ? 'integers' : 'numbers'} ≥ ${check.min}, as "N" or "model=N" separated by commas, got "${raw}"`,
      );
    }
    if (key === undefined) all = v;
    else perModel.set(key.trim(), v);
  }
  if (all === undefined && check.min > 0) {
    throw new InvalidArgumentError(
      `--${option}: expected a value for every model (e.g. "500" or "tiny-sd21=1500,500"), got "${raw}"`,
    );
  }
  return (model) => perModel.get(model) ?? all ?? 0;
}

/** Paths of one model's refiner run: the targets and training folders, and the exported refiner. */
export interface RecipePaths {
  modelDir: string;
  targetsDir: string;
  runDir: string;
  refinerDir: string;
  /** The prompts file (text families). */
  promptsFile: string;
}

/** One caption per target sample, class-balanced (class i mod 10), from the zoo's caption grammar. */
export function targetPrompts(count: number, promptSeed = TARGET_PROMPT_SEED): string[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new InvalidArgumentError(`targetPrompts: expected a positive integer count, got ${count}`);
  }
  return Array.from({ length: count }, (_, i) => classPrompt(i % NUM_CLASSES, i, promptSeed));
}

/** Arguments of `noiserefine-train targets` for a recipe. */
export function targetsArgs(recipe: RefinerRecipe, paths: RecipePaths): string[] {
  const conditions =
    recipe.conditionKind === 'label'
      ? ['--classes', `0-${NUM_CLASSES - 1}`]
      : ['--conditions', paths.promptsFile];
  return [
    'targets',
    paths.modelDir,
    '--out',
    paths.targetsDir,
    ...conditions,
    '--num-samples',
    String(recipe.numSamples),
    '--guidance-scale',
    String(recipe.guidanceScale),
    '--pag-scale',
    String(recipe.pagScale),
    ...(recipe.pagLayers && recipe.pagScale > 0 ? ['--pag-layers', recipe.pagLayers.join(',')] : []),
    '--steps',
    String(recipe.targetSteps),
    '--batch-size',
    String(recipe.targetBatchSize),
  ];
}

/** Arguments of `noiserefine-train msd` for a recipe (LoRA refiner, exported into the model folder). */
export function msdArgs(recipe: RefinerRecipe, paths: RecipePaths): string[] {
  const m = recipe.msd;
  return [
    'msd',
    paths.modelDir,
    '--targets',
    paths.targetsDir,
    '--out',
    paths.runDir,
    '--refiner',
    'lora',
    '--rank',
    String(m.rank),
    '--steps',
    String(m.steps),
    '--batch-size',
    String(m.batchSize),
    '--lr',
    String(m.learningRate),
    '--warmup',
    String(m.warmup),
    '--num-inference-steps',
    String(m.numInferenceSteps),
    '--checkpoint-every',
    String(m.checkpointEvery),
    '--validate-every',
    String(m.validateEvery),
    '--seed',
    String(m.seed),
    '--export',
    paths.refinerDir,
  ];
}

/**
 * What must match for cached work to be reused: targets need the same denoiser bytes (a
 * retrained model under the same folder name makes them stale) and target settings; a
 * training checkpoint needs those and the same MSD settings.
 */
export function recipeStamp(
  recipe: RefinerRecipe,
  denoiserSha256: string,
): { targets: string; training: string } {
  const { msd, ...targets } = recipe;
  return {
    targets: JSON.stringify({ denoiserSha256, targets }),
    training: JSON.stringify({ denoiserSha256, targets, msd }),
  };
}
