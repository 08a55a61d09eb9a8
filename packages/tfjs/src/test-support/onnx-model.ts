import {
  type AttributeProto,
  encodeModel,
  onnx,
  type TensorProto,
  type ValueInfoProto,
} from '@noiserefine/onnx';

const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

export type ElemType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';

const ELEM: Record<ElemType, number> = {
  float32: DT.FLOAT,
  float16: DT.FLOAT16,
  int64: DT.INT64,
  int32: DT.INT32,
  bool: DT.BOOL,
};

export type AttrValue =
  | number
  | string
  | number[]
  | string[]
  | { tensor: TensorSpec }
  | { float: number }
  | { floats: number[] };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  name?: string;
  domain?: string;
}

export interface TensorSpec {
  name?: string;
  type: ElemType;
  dims: number[];
  values: ArrayLike<number> | readonly bigint[];
}

export interface ValueSpec {
  name: string;
  type: ElemType;
  /** Omitted: the shape is left unspecified (outputs whose shape the runtime infers). */
  shape?: (number | string)[];
}

export interface ModelSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: (TensorSpec & { name: string })[];
  opset?: number;
}

export function tensorProto(spec: TensorSpec): TensorProto {
  const t = onnx.TensorProto.create({ name: spec.name ?? '', dataType: ELEM[spec.type], dims: spec.dims });
  const values = Array.from(spec.values as ArrayLike<number>, (v) => v);
  switch (spec.type) {
    case 'float32':
      t.floatData = values.map(Number);
      break;
    case 'float16':
      t.int32Data = values.map(Number);
      break;
    case 'int64':
      t.rawData = new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
      break;
    default:
      t.int32Data = values.map(Number);
  }
  return t;
}

function attribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? onnx.AttributeProto.create({ name, type: AT.INT, i: value })
      : onnx.AttributeProto.create({ name, type: AT.FLOAT, f: value });
  }
  if (typeof value === 'string') {
    return onnx.AttributeProto.create({ name, type: AT.STRING, s: new TextEncoder().encode(value) });
  }
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) {
      return onnx.AttributeProto.create({
        name,
        type: AT.STRINGS,
        strings: (value as string[]).map((v) => new TextEncoder().encode(v)),
      });
    }
    return onnx.AttributeProto.create({ name, type: AT.INTS, ints: value as number[] });
  }
  if ('tensor' in value)
    return onnx.AttributeProto.create({ name, type: AT.TENSOR, t: tensorProto(value.tensor) });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: AT.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: AT.FLOATS, floats: value.floats });
}

function valueInfo(v: ValueSpec): ValueInfoProto {
  const shape = v.shape && {
    dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
  };
  return onnx.ValueInfoProto.create({
    name: v.name,
    type: { tensorType: { elemType: ELEM[v.type], ...(shape ? { shape } : {}) } },
  });
}

/** An ONNX model from a compact description (for tests). */
export function buildModel(spec: ModelSpec): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: 'test',
    input: spec.inputs.map(valueInfo),
    output: spec.outputs.map(valueInfo),
    initializer: (spec.initializers ?? []).map((i) => tensorProto(i)),
    node: spec.nodes.map((n, i) =>
      onnx.NodeProto.create({
        name: n.name ?? `${n.op}_${i}`,
        opType: n.op,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      }),
    ),
  });
  return encodeModel(
    onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'noiserefine-tests',
      opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
      graph,
    }),
  );
}
