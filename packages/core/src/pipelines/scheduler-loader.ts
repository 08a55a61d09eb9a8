import type { Scheduler } from '../schedulers/scheduler';
import { DDIMScheduler } from '../schedulers/ddim';
import { schedulerFromConfig } from '../schedulers/registry';
import { NoiseRefineError } from '../errors';
import type { ModelFolder } from './model-folder';

/**
 * The folder's `scheduler/scheduler_config.json` as its scheduler class. Real SD folders
 * often name PNDMScheduler, which this SDK does not implement: those configs load as
 * DDIMScheduler (same noise schedule and timestep spacing) with a warning.
 */
export async function loadFolderScheduler(
  folder: ModelFolder,
  options: { onWarning?: (message: string) => void },
): Promise<Scheduler> {
  const json = await folder.readJson('scheduler/scheduler_config.json');
  const warn = options.onWarning ?? ((m: string) => console.warn(m));
  try {
    return schedulerFromConfig(json, { onWarning: warn });
  } catch (error) {
    if (NoiseRefineError.isInstance(error) && json._class_name === 'PNDMScheduler') {
      warn('PNDMScheduler is not implemented; using DDIMScheduler with the same config');
      return DDIMScheduler.fromConfig({ ...json, clip_sample: false }, { onWarning: () => {} });
    }
    throw error;
  }
}
