import { resolve } from 'node:path';

/** The tiny model zoo's folders (zoo/models), the examples' default models. */
export const ZOO_MODELS_DIR = resolve(import.meta.dirname, '../../../zoo/models');

/** The zoo's ten class names by label (label = 2·shape + colour). */
export const ZOO_CLASS_NAMES: readonly string[] = [
  'red circle',
  'blue circle',
  'red ring',
  'blue ring',
  'red plus',
  'blue plus',
  'red cross',
  'blue cross',
  'red triangle',
  'blue triangle',
];

/** Captions in the zoo dataset's grammar, one per shape. */
export const ZOO_PROMPTS: readonly string[] = [
  'a red circle on a grey background',
  'a blue ring on a light grey background',
  'a red plus sign on a dark grey background',
  'a blue diagonal cross on a grey background',
  'a red triangle on a light grey background',
];
