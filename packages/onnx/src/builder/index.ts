export { DATA_TYPES, type DataType, type TensorData } from './data-type';
export {
  type AttributeValue,
  GraphBuilder,
  type GraphBuilderOptions,
  type ModelOptions,
  type NodeOptions,
  type NodeOutputSpec,
  OPSET_VERSION,
  type SliceSpec,
} from './graph-builder';
export * from './layers/index';
export { getMetadata, METADATA_KEYS, setMetadata } from './metadata';
export { type ParameterInit, torchLinearInit, xavierUniformInit } from './parameter-init';
export { formatDims } from './shape-inference';
export { type Dim, Value, type ValueShape } from './value';
