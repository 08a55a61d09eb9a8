/**
 * @noiserefine/tfjs: the TensorFlow.js backend. Tensors with gradients, an ONNX executor
 * on tfjs ops whose initializers can be trainable variables, optimizers, learning-rate
 * schedules and checkpoints. Importing this module registers nothing; tfjsBackend() picks
 * and starts the engine.
 */
import { tfjsBackend } from './backend';

export { TfjsBackend, type TfjsBackendOptions, type TfjsLoadModelOptions, tfjsBackend } from './backend';
export {
  ENGINE_CANDIDATES,
  type EngineAttempt,
  type EngineCandidate,
  type EngineName,
  type EngineReport,
  type EngineSelectionOptions,
  selectEngine,
} from './engine/engine-selection';
export { ADAPTER_GRADIENTS, registerMissingGradients } from './gradients/register-gradients';
export { TfjsModel } from './model/tfjs-model';
export { exportOnnx } from './onnx/export-onnx';
export { OnnxGraph, type OnnxGraphOptions, type TrainableSelector } from './onnx/graph-executor';
export { type ConvolutionMode, SUPPORTED_OPERATORS } from './onnx/ops/index';
export { isTfjsTensor, TfjsTensor, TfjsTensorBackend } from './tensor/tfjs-tensor-backend';
export {
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
  loadCheckpoint,
  type SaveCheckpointOptions,
  saveCheckpoint,
} from './training/checkpoint';
export {
  Adam,
  type AdamOptions,
  AdamW,
  createOptimizer,
  Optimizer,
  type OptimizerKind,
  type OptimizerOptions,
  SGD,
  type SGDOptions,
} from './training/optimizers';
export {
  getConstantSchedule,
  getConstantScheduleWithWarmup,
  getCosineScheduleWithWarmup,
  getLinearScheduleWithWarmup,
  type LearningRateSchedule,
  type WarmupDecayOptions,
} from './training/schedules';
export { type TrainStepOptions, type TrainStepResult, trainStep } from './training/train-step';
export {
  clipGradNorm,
  disposeGradients,
  type Gradients,
  gradientNorm,
  type LossFunction,
  type ValueAndGrads,
  valueAndGrads,
} from './training/value-and-grads';

/** The factory core's registry calls for `backend: 'tfjs'`. */
export default tfjsBackend;
