export { type AttentionKind, type AttentionLayer, findAttentionLayers } from './attention-layers';
export { eliminateDeadCode } from './dead-code';
export { compileLayerPatterns, matchesLayerPattern } from './layer-patterns';
export {
  makePerturbedAttentionModel,
  makePerturbedAttentionModelBytes,
  PERTURBED_ATTENTION_METADATA_KEY,
  type PerturbedAttentionOptions,
} from './perturbed-attention';
export * from './refiner-graph';
