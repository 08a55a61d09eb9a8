export * from './scheduler';
export * from './config';
export * from './betas';
export * from './spacing';
export { predictionCoefficients, type PredictionCoefficients } from './prediction';
export { DDIMScheduler, DDIM_DEFAULTS, type DDIMSchedulerConfig } from './ddim';
export { DDIMInverseScheduler, DDIM_INVERSE_DEFAULTS, type DDIMInverseSchedulerConfig } from './ddim-inverse';
export {
  DDPMScheduler,
  DDPM_DEFAULTS,
  DDPM_VARIANCE_TYPES,
  type DDPMSchedulerConfig,
  type DDPMVarianceType,
} from './ddpm';
export {
  DPMSolverMultistepScheduler,
  DPM_SOLVER_MULTISTEP_DEFAULTS,
  type DPMSolverMultistepSchedulerConfig,
} from './dpm-solver-multistep';
export {
  DPM_SOLVER_ALGORITHMS,
  DPM_SOLVER_TYPES,
  type DPMSolverAlgorithm,
  type DPMSolverType,
} from './dpm-solver-update';
export {
  EulerDiscreteScheduler,
  EULER_DISCRETE_DEFAULTS,
  type ChurnOptions,
  type EulerDiscreteSchedulerConfig,
  type EulerStepOptions,
} from './euler-discrete';
export {
  HeunDiscreteScheduler,
  HEUN_DISCRETE_DEFAULTS,
  type HeunDiscreteSchedulerConfig,
} from './heun-discrete';
export {
  FlowMatchEulerDiscreteScheduler,
  FLOW_MATCH_EULER_DISCRETE_DEFAULTS,
  calculateShift,
  type FlowMatchEulerDiscreteSchedulerConfig,
  type FlowMatchSetTimestepsOptions,
} from './flow-match-euler-discrete';
export {
  SiTFlowScheduler,
  SIT_FLOW_DEFAULTS,
  SIT_SOLVERS,
  type SiTFlowSchedulerConfig,
  type SiTSolver,
} from './sit-flow';
export { exponentialSigmas, karrasSigmas, type FinalSigmasType } from './sigma-schedule';
export {
  SCHEDULER_CLASS_NAMES,
  isSchedulerClassName,
  schedulerFromConfig,
  type SchedulerClassName,
  type SchedulerFromConfigOptions,
} from './registry';
