/**
 * Config keys several diffusers schedulers share, with their defaults and
 * validation, so each scheduler only declares what is its own.
 */
import { BETA_SCHEDULES, type NoiseScheduleConfig } from './betas';
import type { KeySpec } from './config';
import { PREDICTION_TYPES } from './scheduler';
import { TIMESTEP_SPACINGS, type TimestepSpacing } from './spacing';

export type KeySpecs<T> = { [K in keyof T]-?: KeySpec };

export const NOISE_SCHEDULE_DEFAULTS: NoiseScheduleConfig = {
  numTrainTimesteps: 1000,
  betaStart: 0.0001,
  betaEnd: 0.02,
  betaSchedule: 'linear',
  trainedBetas: null,
  rescaleBetasZeroSnr: false,
};

export const NOISE_SCHEDULE_KEYS: KeySpecs<NoiseScheduleConfig> = {
  numTrainTimesteps: { type: 'number', integer: true, min: 1 },
  betaStart: { type: 'number', min: 0, max: 1 },
  betaEnd: { type: 'number', min: 0, max: 1 },
  betaSchedule: { type: 'enum', values: BETA_SCHEDULES },
  trainedBetas: { type: 'numberArray', nullable: true },
  rescaleBetasZeroSnr: { type: 'boolean' },
};

export interface TimestepConfig {
  timestepSpacing: TimestepSpacing;
  stepsOffset: number;
}

export const TIMESTEP_KEYS: KeySpecs<TimestepConfig> = {
  timestepSpacing: { type: 'enum', values: TIMESTEP_SPACINGS },
  stepsOffset: { type: 'number', integer: true, min: 0 },
};

export const PREDICTION_TYPE_KEY: KeySpec = { type: 'enum', values: PREDICTION_TYPES };

/** Dynamic thresholding of the predicted x0 (Imagen). */
export interface ThresholdingConfig {
  thresholding: boolean;
  dynamicThresholdingRatio: number;
  sampleMaxValue: number;
}

export const THRESHOLDING_DEFAULTS: ThresholdingConfig = {
  thresholding: false,
  dynamicThresholdingRatio: 0.995,
  sampleMaxValue: 1.0,
};

export const THRESHOLDING_KEYS: KeySpecs<ThresholdingConfig> = {
  thresholding: { type: 'boolean' },
  dynamicThresholdingRatio: { type: 'number', min: 0, max: 1 },
  sampleMaxValue: { type: 'number', min: 0 },
};

/** Static clipping of the predicted x0 to [−range, range]. */
export interface ClipSampleConfig {
  clipSample: boolean;
  clipSampleRange: number;
}

export const CLIP_SAMPLE_KEYS: KeySpecs<ClipSampleConfig> = {
  clipSample: { type: 'boolean' },
  clipSampleRange: { type: 'number', min: 0 },
};
