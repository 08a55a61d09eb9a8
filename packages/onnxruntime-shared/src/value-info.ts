import { type Dim, type ModelDType, UnsupportedCapabilityError, type ValueInfo } from '@noiserefine/core';
import type { OrtValueMetadata } from './runtime';

const MODEL_DTYPES: readonly ModelDType[] = [
  'float32',
  'float16',
  'int64',
  'int32',
  'int8',
  'uint8',
  'bool',
  'float64',
  'string',
];

// onnxruntime-web reports an unknown dimension as -1 read back as uint32.
const UNKNOWN_DIM_U32 = 0xffffffff;

/**
 * One dimension as core describes it. Runtimes disagree on unknown dimensions
 * (node: '', web: 4294967295); both become null. Symbolic names fixed by
 * freeDimensionOverrides become their size.
 */
export function toDim(dim: number | string, overrides: Readonly<Record<string, number>>): Dim {
  if (typeof dim === 'number') return dim < 0 || dim === UNKNOWN_DIM_U32 ? null : dim;
  if (dim === '') return null;
  return overrides[dim] ?? dim;
}

/** Core's metadata for one session input or output; throws for values core cannot describe. */
export function toValueInfo(
  meta: OrtValueMetadata,
  role: 'input' | 'output',
  model: string,
  overrides: Readonly<Record<string, number>> = {},
): ValueInfo {
  if (!meta.isTensor) {
    throw new UnsupportedCapabilityError(
      `model "${model}": ${role} "${meta.name}" is not a tensor (a sequence or map); only tensor inputs and outputs are supported`,
    );
  }
  const dtype = meta.type as ModelDType;
  if (!MODEL_DTYPES.includes(dtype)) {
    throw new UnsupportedCapabilityError(
      `model "${model}": ${role} "${meta.name}" has element type ${meta.type}; supported: ${MODEL_DTYPES.join(', ')}`,
    );
  }
  return { name: meta.name, dtype, shape: meta.shape.map((d) => toDim(d, overrides)) };
}
