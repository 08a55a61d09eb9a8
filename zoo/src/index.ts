export { CAPTION_TEMPLATES, drawAttributes, GEOMETRY, hsvToRgb, type SampleAttributes } from './attributes';
export {
  fitPatchAutoencoder,
  type ReconstructionError,
  reconstructionError,
  scaledLatentStd,
} from './autoencoder/fit';
export {
  autoencoderToOnnx,
  DECODER_PROJECTION,
  ENCODER_PROJECTION,
  readAutoencoder,
  SCALING_FACTORS,
  vaeConfig,
  writeAutoencoder,
} from './autoencoder/onnx-export';
export {
  PatchAutoencoder,
  type PatchAutoencoderGeometry,
  type PatchAutoencoderWeights,
} from './autoencoder/patch-autoencoder';
export { captionFor, parseCaption, SHAPE_NOUNS } from './captions';
export { COLOURS, type ColourName, classOf, NUM_CLASSES, ZOO_CLASSES, type ZooClass } from './classes';
export {
  type DatasetOptions,
  DEFAULT_IMAGE_SIZE,
  generateDataset,
  generateSample,
  type ZooDataset,
  type ZooSample,
} from './dataset';
export {
  type CachedDataset,
  type CachedLatents,
  DATASET_CACHE_FORMAT,
  readDatasetCache,
  writeDatasetCache,
} from './dataset-cache';
export * from './evaluator/index';
export { encodeImageGrid, type ImageBatch, type ImageGridOptions, writeImageGrid } from './image-grid';
export {
  buildSiT,
  checkSiTConfig,
  countParameters,
  SIT_IO,
  type SiTNetworkConfig,
  sitConfigFromJson,
  sitTransformerConfig,
  TINY_SIT_CONFIG,
} from './networks/sit';
export { SampleRandom } from './sample-random';
export { insideShape, SHAPES, type ShapeName } from './shapes';
