export * from './msd';
export { trajectoryJacobianScale } from './trajectory-jacobian';
export {
  NoiseRefiner,
  type RefineOptions,
  type RefinerFamily,
  type RefinerMetadata,
  parseRefinerMetadata,
  refinerConfigJson,
} from './refiner';
