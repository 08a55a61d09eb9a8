/**
 * The zoo's evaluator: a small classifier whose unit-length penultimate features give a
 * Fréchet distance, with class accuracy and an Inception-Score analogue, and the loop
 * that generates class-balanced samples from a pipeline and scores them. Training lives
 * in ./train (it needs tfjs); everything here runs on any inference backend.
 */
export {
  type AugmentationOptions,
  addGaussianNoise,
  augmentImage,
  type ColourJitter,
  DEFAULT_AUGMENTATION,
  gaussianBlur,
  jitterColour,
  quantize8Bit,
  reconstructImage,
  shiftImage,
} from './augment';
export {
  type BatchSampler,
  balancedLabels,
  classPrompt,
  type EvaluateModelOptions,
  evaluateModel,
  type GenerateOverrides,
  type ModelEvaluation,
  type PipelineSamplerOptions,
  pipelineSampler,
  type SampleBatch,
} from './evaluate-model';
export {
  EVALUATOR_CONFIG_FORMAT,
  EVALUATOR_CONFIG_VERSION,
  EVALUATOR_DIR,
  Evaluator,
  type EvaluatorConfig,
  type EvaluatorOutputs,
  embedImages,
  type ReferenceStatistics,
  referenceStats,
  rgbImagesToArray,
  type SampleScores,
  scoreOutputs,
} from './evaluator';
export {
  type ClassAccuracy,
  classAccuracy,
  featureStatistics,
  frechetDistance,
  type GaussianStats,
  inceptionScore,
  predictedClasses,
  softmaxRows,
} from './metrics';
export {
  type DefaultGuidance,
  defaultGuidanceScale,
  readZooMetadata,
  ZOO_METADATA_FILE,
  type ZooModelMetadata,
} from './model-defaults';
export {
  buildEvaluatorGraph,
  DEFAULT_EVALUATOR_ARCHITECTURE,
  EVALUATOR_INPUT,
  EVALUATOR_OUTPUTS,
  type EvaluatorArchitecture,
  type EvaluatorGraphOptions,
} from './network';
export { runSanityChecks, type SanityCase, type SanityResult, sanityCases } from './sanity';
