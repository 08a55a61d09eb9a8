export * from './scheduler';
export * from './config';
export * from './betas';
export * from './spacing';
export { predictionCoefficients, type PredictionCoefficients } from './prediction';
export { DDIMScheduler, DDIM_DEFAULTS, type DDIMSchedulerConfig } from './ddim';
