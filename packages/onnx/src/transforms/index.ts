export { type AttentionKind, type AttentionLayer, findAttentionLayers } from './attention-layers';
export { eliminateDeadCode } from './dead-code';
export {
  addGuidanceEmbedding,
  GUIDANCE_EMBEDDING_METADATA_KEY,
  type GuidanceEmbedding,
  type GuidanceEmbeddingOptions,
  type GuidanceEmbeddingRecord,
  guidanceEmbeddingRecord,
} from './guidance-embedding';
export { compileLayerPatterns, matchesLayerPattern } from './layer-patterns';
export {
  makePerturbedAttentionModel,
  makePerturbedAttentionModelBytes,
  PERTURBED_ATTENTION_METADATA_KEY,
  type PerturbedAttentionOptions,
} from './perturbed-attention';
export * from './refiner-graph';
export {
  DEFAULT_TIMESTEP_EMBEDDING_PATTERNS,
  type FindTimestepEmbeddingOptions,
  findTimestepEmbedding,
  type TimestepEmbeddingSite,
} from './timestep-embedding';
