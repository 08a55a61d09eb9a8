import { ModelLoadError } from '../errors';
import type { ModelFolder } from './model-folder';

/** The parsed `model_index.json` of a diffusers/optimum pipeline folder. */
export interface ModelIndex {
  className: string;
  /** Component name → [library, class] as diffusers writes it (e.g. unet → ["diffusers", "UNet2DConditionModel"]). */
  components: Record<string, [string | null, string | null]>;
  raw: Record<string, unknown>;
}

export async function readModelIndex(folder: ModelFolder): Promise<ModelIndex> {
  const raw = await folder.readJson('model_index.json');
  const className = raw._class_name;
  if (typeof className !== 'string') {
    throw new ModelLoadError(
      folder.resolve('model_index.json'),
      'expected a "_class_name" string naming the pipeline',
    );
  }
  const components: ModelIndex['components'] = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith('_')) continue;
    if (Array.isArray(value) && value.length === 2) components[key] = value as [string | null, string | null];
  }
  return { className, components, raw };
}
