export {
  type ColumnTiming,
  type ComparisonGridOptions,
  type GenerateImages,
  guidanceComparisonColumns,
  type SamplingColumn,
  writeComparisonGrid,
} from './comparison-grid';
export { type GridRow, type LabelledGridOptions, renderLabelledGrid } from './labelled-grid';
export {
  folderGuidanceScale,
  loadRefiner,
  numberOption,
  promptsOption,
  type SamplingValues,
  samplingOptions,
  samplingValues,
  resolvePathOptions,
  userPath,
} from './sampling-cli';
export { timed } from './timing';
export { ZOO_CLASS_NAMES, ZOO_MODELS_DIR, ZOO_PROMPTS } from './zoo-defaults';
export { type TextToImageAppOptions, runTextToImageApp } from './text-to-image-app';
