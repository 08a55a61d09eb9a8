import { UnsupportedOptionError } from '../errors';
import type { ParseConfigOptions } from './config';
import { DDIMScheduler } from './ddim';
import { DDIMInverseScheduler } from './ddim-inverse';
import { DDPMScheduler } from './ddpm';
import { DPMSolverMultistepScheduler } from './dpm-solver-multistep';
import { EulerDiscreteScheduler } from './euler-discrete';
import { FlowMatchEulerDiscreteScheduler } from './flow-match-euler-discrete';
import { HeunDiscreteScheduler } from './heun-discrete';
import type { Scheduler } from './scheduler';
import { SiTFlowScheduler } from './sit-flow';

type SchedulerClass = {
  fromConfig(json: Record<string, unknown>, options?: Partial<ParseConfigOptions>): Scheduler;
};

/** Every scheduler this SDK implements, by the class name diffusers' configs use. */
const SCHEDULER_CLASSES = {
  DDIMScheduler,
  DDIMInverseScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EulerDiscreteScheduler,
  HeunDiscreteScheduler,
  FlowMatchEulerDiscreteScheduler,
  SiTFlowScheduler,
} as const satisfies Record<string, SchedulerClass>;

export type SchedulerClassName = keyof typeof SCHEDULER_CLASSES;

export const SCHEDULER_CLASS_NAMES = Object.keys(SCHEDULER_CLASSES) as readonly SchedulerClassName[];

export function isSchedulerClassName(name: unknown): name is SchedulerClassName {
  return typeof name === 'string' && Object.hasOwn(SCHEDULER_CLASSES, name);
}

export interface SchedulerFromConfigOptions extends Partial<ParseConfigOptions> {
  /**
   * Build this class from the config instead of the one its `_class_name` names, e.g. an
   * SD 2.1 folder's PNDMScheduler config as DDIMScheduler: the noise schedule and timestep
   * keys carry over, keys the class does not know are reported through onWarning.
   */
  className?: string;
}

/**
 * A scheduler from a diffusers `scheduler_config.json` object, dispatching on its
 * `_class_name` (or `options.className`). Unknown classes raise UnsupportedOptionError
 * listing the supported ones.
 */
export function schedulerFromConfig(
  json: Record<string, unknown>,
  options: SchedulerFromConfigOptions = {},
): Scheduler {
  const { className, ...parseOptions } = options;
  const name = className ?? json._class_name;
  if (!isSchedulerClassName(name)) {
    throw new UnsupportedOptionError('scheduler class', name ?? null, SCHEDULER_CLASS_NAMES, {
      context:
        className === undefined
          ? 'schedulerFromConfig (from the config\'s "_class_name"; pass options.className to load it as a supported class)'
          : 'schedulerFromConfig (options.className)',
    });
  }
  return SCHEDULER_CLASSES[name].fromConfig(json, parseOptions);
}
