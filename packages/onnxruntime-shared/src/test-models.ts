/**
 * Small ONNX models written with onnx-proto for the adapter's tests, each
 * exercising one part of the contract. Not part of the package's entry point.
 */
import { encodeModel, onnx } from '@noiserefine/onnx';

const T = onnx.TensorProto.DataType;
type DimSpec = number | string | null;

function valueInfo(name: string, elemType: number, dims: readonly DimSpec[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : d === null ? {} : { dimParam: d })),
        },
      },
    },
  };
}

function floatInitializer(name: string, values: readonly number[], dims: readonly number[]) {
  return { name, dataType: T.FLOAT, dims: [...dims], floatData: [...values] };
}

interface GraphSpec {
  nodes: { opType: string; input: string[]; output: string[]; attribute?: unknown[] }[];
  inputs: ReturnType<typeof valueInfo>[];
  outputs: ReturnType<typeof valueInfo>[];
  initializers?: unknown[];
}

function model(graph: GraphSpec): Uint8Array {
  return encodeModel({
    irVersion: 8,
    producerName: 'noiserefine-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'test',
      node: graph.nodes,
      input: graph.inputs,
      output: graph.outputs,
      initializer: graph.initializers ?? [],
    } as never,
  });
}

function castTo(to: number, input: string, output: string) {
  return {
    opType: 'Cast',
    input: [input],
    output: [output],
    attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to }],
  };
}

export const AFFINE_WEIGHT = [2, -1, 0.5] as const;
export const AFFINE_BIAS = [1, 0, -3] as const;

/** y = x·w + b and z = y² over x: float32 [batch, 3]. */
export function affineModel(): Uint8Array {
  return model({
    nodes: [
      { opType: 'Mul', input: ['x', 'w'], output: ['xw'] },
      { opType: 'Add', input: ['xw', 'b'], output: ['y'] },
      { opType: 'Mul', input: ['y', 'y'], output: ['z'] },
    ],
    inputs: [valueInfo('x', T.FLOAT, ['batch', 3])],
    outputs: [valueInfo('y', T.FLOAT, ['batch', 3]), valueInfo('z', T.FLOAT, ['batch', 3])],
    initializers: [floatInitializer('w', AFFINE_WEIGHT, [3]), floatInitializer('b', AFFINE_BIAS, [3])],
  });
}

/** An fp16 export in miniature: y = 2·x in float16, plus the same as float32 in y32. */
export function float16Model(): Uint8Array {
  return model({
    nodes: [
      castTo(T.FLOAT, 'x', 'x32'),
      { opType: 'Add', input: ['x32', 'x32'], output: ['y32'] },
      castTo(T.FLOAT16, 'y32', 'y'),
    ],
    inputs: [valueInfo('x', T.FLOAT16, ['batch', 3])],
    outputs: [valueInfo('y', T.FLOAT16, ['batch', 3]), valueInfo('y32', T.FLOAT, ['batch', 3])],
  });
}

/** Integer inputs: out = float(ids) + float(offset), with ids int64 [n] and offset int32 [1]. */
export function integerInputsModel(): Uint8Array {
  return model({
    nodes: [
      castTo(T.FLOAT, 'ids', 'idsF'),
      castTo(T.FLOAT, 'offset', 'offsetF'),
      { opType: 'Add', input: ['idsF', 'offsetF'], output: ['out'] },
    ],
    inputs: [valueInfo('ids', T.INT64, ['n']), valueInfo('offset', T.INT32, [1])],
    outputs: [valueInfo('out', T.FLOAT, ['n'])],
  });
}

/** A scalar input, as newer diffusers exports take their timestep: y = x + t, t float32 []. */
export function scalarInputModel(): Uint8Array {
  return model({
    nodes: [{ opType: 'Add', input: ['x', 't'], output: ['y'] }],
    inputs: [valueInfo('x', T.FLOAT, [2]), valueInfo('t', T.FLOAT, [])],
    outputs: [valueInfo('y', T.FLOAT, [2])],
  });
}

export const EXTERNAL_WEIGHT = [3, -2, 0.25] as const;

/**
 * y = x·w with w stored outside the model in `weightsFile`, as exporters write
 * weights over 2 GB (the location is relative to the model file).
 */
export function externalDataModel(weightsFile = 'weights.bin'): { model: Uint8Array; weights: Uint8Array } {
  const weights = new Uint8Array(Float32Array.from(EXTERNAL_WEIGHT).buffer);
  const bytes = model({
    nodes: [{ opType: 'Mul', input: ['x', 'w'], output: ['y'] }],
    inputs: [valueInfo('x', T.FLOAT, [3])],
    outputs: [valueInfo('y', T.FLOAT, [3])],
    initializers: [
      {
        name: 'w',
        dataType: T.FLOAT,
        dims: [3],
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: weightsFile },
          { key: 'offset', value: '0' },
          { key: 'length', value: String(weights.byteLength) },
        ],
      },
    ],
  });
  return { model: bytes, weights };
}
