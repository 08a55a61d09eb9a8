export * from './guidance';
export { PASS_ORDER, assertPassList, requirePass, splitPasses, stackPasses } from './passes';
export { condPassThrough, noGuidance } from './no-guidance';
export {
  type ClassifierFreeGuidance,
  type ClassifierFreeGuidanceOptions,
  classifierFreeGuidance,
  rescaleNoiseCfg,
} from './classifier-free';
export {
  type PerturbedAttentionGuidance,
  type PerturbedAttentionGuidanceOptions,
  perturbedAttentionGuidance,
} from './perturbed-attention';
export { type GuidanceInterval, type GuidanceIntervalOptions, guidanceInterval } from './interval';
