/**
 * @noiserefine/train: trains noise refiners. Guided targets (CFG and/or PAG) from seeded
 * noise, sharded and resumable; Multistep Score Distillation with the refiner on tfjs and
 * the frozen denoiser on onnxruntime-node; checkpoints that resume exactly; refiner export.
 */
export { writeFileAtomic, writeJsonAtomic } from './atomic-file';
export {
  type Condition,
  type ConditionKind,
  conditionKind,
  conditionsKind,
  parseClassList,
  readConditionsFile,
} from './conditions';
export { makeTargetGuidance, type TargetGuidance, usesPerturbedAttention } from './guidance-spec';
export { latentPreview, pngGrid } from './images/png-grid';
export { type DataCursor, DataOrder, epochPermutation } from './msd/data-order';
export {
  checkDatasetMatchesModel,
  type MsdStepReport,
  MsdTrainer,
  type MsdTrainingOptions,
  type TrainResult,
} from './msd/msd-trainer';
export {
  type RefinerArchitecture,
  type RefinerGuidanceEmbedding,
  RefinerNetwork,
  type RefinerNetworkOptions,
} from './msd/refiner-network';
export { type UnguidedEnd, unguidedEnd } from './msd/unguided-trajectory';
export { type ValidationReport, validateRefiner } from './msd/validation';
export { type LoadTrainingModelOptions, loadTrainingModel } from './pipeline-loader';
export {
  type GenerateTargetsOptions,
  type GenerateTargetsResult,
  generateTargets,
  sampleNoise,
  type TargetProgress,
  targetManifest,
} from './targets/generate-targets';
export { TargetDataset } from './targets/target-dataset';
export { TargetMixture, type TargetSamples } from './targets/target-mixture';
export {
  chunkCount,
  chunkName,
  chunkRange,
  MANIFEST_FILE,
  parseShard,
  readManifest,
  TARGET_FORMAT,
  TARGET_FORMAT_VERSION,
  type TargetChunkRecord,
  type TargetManifest,
} from './targets/target-format';
export {
  type BatchConditioning,
  type ConditionedDenoiser,
  type PromptEmbeddings,
  type SiTTrainingModelOptions,
  sitTrainingModel,
  type TextTrainingModelOptions,
  TrainingModel,
  type TrainingModelOptions,
  textTrainingModel,
} from './training-model';
export { derivedSeed, fmix32 } from './seeds';
