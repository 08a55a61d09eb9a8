import { describe, expect, it, vi } from 'vitest';
import { NoiseRefineError, UnsupportedOptionError } from '../errors';
import { DDIMScheduler } from './ddim';
import { EulerDiscreteScheduler } from './euler-discrete';
import { SCHEDULER_CLASS_NAMES, isSchedulerClassName, schedulerFromConfig } from './registry';

/** SD 2.1's shipped scheduler_config.json names a scheduler this SDK does not implement. */
const SD21_CONFIG = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.10.0.dev0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  clip_sample: false,
  num_train_timesteps: 1000,
  prediction_type: 'v_prediction',
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
};

const quiet = { onWarning: () => {} };

describe('schedulerFromConfig', () => {
  it('dispatches on _class_name for every scheduler, and round-trips toConfig()', () => {
    expect(SCHEDULER_CLASS_NAMES).toEqual(
      expect.arrayContaining([
        'DDIMScheduler',
        'DDIMInverseScheduler',
        'DDPMScheduler',
        'DPMSolverMultistepScheduler',
        'EulerDiscreteScheduler',
        'HeunDiscreteScheduler',
        'FlowMatchEulerDiscreteScheduler',
        'SiTFlowScheduler',
      ]),
    );
    for (const name of SCHEDULER_CLASS_NAMES) {
      const s = schedulerFromConfig({ _class_name: name }, quiet);
      expect(s.className).toBe(name);
      expect(schedulerFromConfig(s.toConfig(), quiet).toConfig()).toEqual(s.toConfig());
    }
  });

  it('raises a typed error listing the supported classes for an unknown one', () => {
    const attempt = () => schedulerFromConfig(SD21_CONFIG, quiet);
    expect(attempt).toThrow(UnsupportedOptionError);
    expect(attempt).toThrow(/PNDMScheduler.*DDIMScheduler.*EulerDiscreteScheduler/);
    expect(attempt).toThrow(/options\.className/);
    expect(() => schedulerFromConfig({}, quiet)).toThrow(NoiseRefineError);
    expect(() => schedulerFromConfig({ _class_name: 'toString' }, quiet)).toThrow(UnsupportedOptionError);
    expect(isSchedulerClassName('constructor')).toBe(false);
  });

  it('loads SD 2.1’s PNDMScheduler config as another class on request, warning about foreign keys', () => {
    const warn = vi.fn();
    const ddim = schedulerFromConfig(SD21_CONFIG, { className: 'DDIMScheduler', onWarning: warn });
    expect(ddim).toBeInstanceOf(DDIMScheduler);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('skip_prk_steps'));
    ddim.setTimesteps(10);
    expect(ddim.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);

    // Euler's default spacing is linspace, so the config yields the reference SD sigmas.
    const euler = schedulerFromConfig(SD21_CONFIG, { className: 'EulerDiscreteScheduler', ...quiet });
    expect(euler).toBeInstanceOf(EulerDiscreteScheduler);
    euler.setTimesteps(10);
    expect(euler.timesteps).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    const sigmas = [
      14.614647, 7.839885, 4.609176, 2.918308, 1.950162, 1.344929, 0.932358, 0.624977, 0.368659, 0.029168, 0,
    ];
    expect(euler.sigmas).toEqual(sigmas.map((v) => expect.closeTo(v, 5)));
    expect((euler as EulerDiscreteScheduler).config.predictionType).toBe('v_prediction');
    expect(() => schedulerFromConfig(SD21_CONFIG, { className: 'PNDMScheduler' })).toThrow(
      /options\.className/,
    );
  });
});
