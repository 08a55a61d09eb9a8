export { type GeluApproximation, gelu, silu } from './activations';
export { type AttentionOptions, attention } from './attention';
export {
  type LabelEmbeddingOptions,
  labelEmbedding,
  positionEmbedding2d,
  type SinusoidalOptions,
  sincosPositionEmbedding2d,
  sinusoidalTimestepEmbedding,
  type TimestepEmbedderOptions,
  timestepEmbedder,
  timestepFrequencies,
} from './embeddings';
export { type LinearInit, type LinearOptions, linear } from './linear';
export { type MlpOptions, mlp } from './mlp';
export { type AdaLNModulationOptions, adaLNModulation, gatedResidual, modulate } from './modulation';
export { type GroupNormOptions, groupNorm, type LayerNormOptions, layerNorm } from './normalization';
export { type PatchGeometry, patchify, unpatchify } from './patches';
