import { Generator, InvalidArgumentError } from '@noiserefine/core';
import {
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  onnx,
  type TensorProto,
  type ValueInfoProto,
} from '../proto';
import { type DataType, dataTypeOf, encodeTensor, type TensorData, toProtoDataType } from './data-type';
import { metadataProps } from './metadata';
import { initialValues, type ParameterInit } from './parameter-init';
import {
  broadcastShapes,
  concatShape,
  formatDims,
  gatherShape,
  matMulShape,
  normalizeAxis,
  reduceShape,
  reshapeShape,
  shapeMismatch,
  sliceShape,
  splitShapes,
  transposeShape,
  unsqueezeShape,
} from './shape-inference';
import { type Dim, Value, type ValueShape } from './value';

/** The opset our networks are written against: LayerNormalization needs 17. */
export const OPSET_VERSION = 17;
/** IR version 8 is the one that goes with opset 17 (onnx 1.12). */
const IR_VERSION = 8;

export type AttributeValue =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { string: string }
  | { tensor: TensorProto };

export interface GraphBuilderOptions {
  /** The graph's name. */
  name?: string;
  /** Seed of the stream random initialisers draw from (default 0). */
  seed?: number;
  /** Trained values by full parameter name; they take precedence over initialisers. */
  weights?: ReadonlyMap<string, Float32Array> | Readonly<Record<string, Float32Array>>;
  /**
   * Require the weights to match the parameters exactly: every parameter must have
   * a value and every value must be used (catches renamed layers when loading).
   */
  exactWeights?: boolean;
}

export interface ModelOptions {
  /** model.metadata_props, e.g. { family: 'sit', base_model: 'zoo-sit-s' }. */
  metadata?: Readonly<Record<string, string>>;
  producerName?: string;
  docString?: string;
}

export interface NodeOptions {
  attributes?: Readonly<Record<string, AttributeValue>>;
  /** A label for the node's name inside the current scope (default: the op type). */
  name?: string;
}

export interface NodeOutputSpec {
  dtype: DataType;
  shape: ValueShape;
}

interface NodeRecord {
  name: string;
  opType: string;
  inputs: readonly (Value | null)[];
  outputs: readonly Value[];
  attributes: Readonly<Record<string, AttributeValue>>;
}

export interface SliceSpec {
  starts: readonly number[];
  ends: readonly number[];
  axes?: readonly number[];
  steps?: readonly number[];
}

/**
 * Writes an ONNX graph from TypeScript. Values are typed handles that carry their
 * element type and (as far as it can be known) their shape, so size mistakes fail
 * here rather than inside a runtime. Names follow torch modules: inside
 * `scope('blocks.0.attn', …)` a parameter `weight` of a sub-scope `to_q` is named
 * `blocks.0.attn.to_q.weight` and its MatMul node `blocks.0.attn.to_q.MatMul`, so
 * graph passes select layers by pattern.
 *
 * Trainable weights are initializers; everything fixed (shapes, axes, eps, ones) is a
 * Constant node, so a trainer can treat every initializer as a parameter.
 */
export class GraphBuilder {
  readonly name: string;
  readonly #generator: Generator;
  readonly #weights: ReadonlyMap<string, Float32Array> | undefined;
  readonly #exactWeights: boolean;
  readonly #usedWeights = new Set<string>();
  readonly #scopes: string[] = [];
  readonly #nodes: NodeRecord[] = [];
  readonly #inputs: Value[] = [];
  readonly #outputs: Value[] = [];
  readonly #parameters = new Map<string, { value: Value; data: Float32Array; dims: readonly number[] }>();
  readonly #valueNames = new Set<string>();
  readonly #nodeNames = new Set<string>();

  constructor(options: GraphBuilderOptions = {}) {
    this.name = options.name ?? 'graph';
    this.#generator = new Generator(options.seed ?? 0);
    const w = options.weights;
    this.#weights = w === undefined ? undefined : w instanceof Map ? w : new Map(Object.entries(w));
    this.#exactWeights = options.exactWeights ?? false;
  }

  // ---- graph interface -------------------------------------------------------------

  /** A graph input; string dims are symbolic ("batch"), shared by name across inputs. */
  input(name: string, dtype: DataType, shape: readonly (number | string)[]): Value {
    const value = this.#newValue(name, dtype, shape, true);
    this.#inputs.push(value);
    return value;
  }

  /** Marks a node's output as a graph output, renaming it to `name` when given. */
  output(value: Value, name: string = value.name): Value {
    this.#own(value, 'graph output');
    if (this.#outputs.includes(value)) {
      throw new InvalidArgumentError(`value "${value.name}" is already a graph output`);
    }
    if (name !== value.name) {
      if (this.#inputs.includes(value) || this.#parameters.has(value.name)) {
        throw new InvalidArgumentError(
          `graph output "${name}": expected a node's output, got graph input or initializer "${value.name}"`,
        );
      }
      if (this.#valueNames.has(name)) {
        throw new InvalidArgumentError(`graph output "${name}": the name is already used by another value`);
      }
      this.#valueNames.delete(value.name);
      this.#valueNames.add(name);
      value.rename(name);
    }
    this.#outputs.push(value);
    return value;
  }

  /** Runs `body` with `name` appended to the module path (torch's dotted names). */
  scope<T>(name: string, body: () => T): T {
    if (name === '' || name.startsWith('.') || name.endsWith('.')) {
      throw new InvalidArgumentError(`scope name: expected a non-empty dotted path, got "${name}"`);
    }
    this.#scopes.push(name);
    try {
      return body();
    } finally {
      this.#scopes.pop();
    }
  }

  /** The current module path ("" at the top). */
  get scopePath(): string {
    return this.#scopes.join('.');
  }

  /**
   * A trainable float32 initializer named `<scope>.<name>`. Its values come from the
   * builder's `weights` when they hold that name, else from `init`.
   */
  parameter(name: string, shape: readonly number[], init: ParameterInit): Value {
    const fullName = this.#qualify(name);
    if (this.#parameters.has(fullName)) {
      throw new InvalidArgumentError(`parameter "${fullName}" is already defined in this graph`);
    }
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new InvalidArgumentError(
        `parameter "${fullName}": expected non-negative integer dims, got [${shape}]`,
      );
    }
    const size = shape.reduce((p, d) => p * d, 1);
    const data = this.#parameterValues(fullName, size, init);
    const value = this.#newValue(fullName, 'float32', shape, true);
    this.#parameters.set(fullName, { value, data, dims: [...shape] });
    return value;
  }

  /** The values of every parameter by full name, in creation order. */
  parameters(): ReadonlyMap<string, Float32Array> {
    return new Map([...this.#parameters].map(([name, p]) => [name, p.data]));
  }

  /** A Constant node holding fixed data (not trainable). A number is a float32 scalar. */
  constant(data: TensorData | number, shape: readonly number[] = [], options: { name?: string } = {}): Value {
    const values = typeof data === 'number' ? Float32Array.of(data) : data;
    const size = shape.reduce((p, d) => p * d, 1);
    if (size !== values.length) {
      throw new InvalidArgumentError(
        `constant of shape [${shape}]: expected ${size} values, got ${values.length}`,
      );
    }
    const nodeName = this.#nodeName(options.name ?? 'Constant');
    const out = this.#newValue(`${nodeName}_output_0`, dataTypeOf(values), shape, true);
    this.#nodes.push({
      name: nodeName,
      opType: 'Constant',
      inputs: [],
      outputs: [out],
      attributes: { value: { tensor: encodeTensor('', values, shape) } },
    });
    return out;
  }

  /** An int64 Constant (shapes, axes, split sizes). */
  int64Constant(values: readonly number[]): Value {
    return this.constant(
      BigInt64Array.from(values, (v) => BigInt(v)),
      [values.length],
    );
  }

  /**
   * Adds one node of any operator. Prefer the typed helpers below, which infer the
   * output's type and shape; this is the escape hatch for anything else.
   */
  node(
    opType: string,
    inputs: readonly (Value | null)[],
    outputs: readonly NodeOutputSpec[],
    options: NodeOptions = {},
  ): Value[] {
    for (const v of inputs) if (v !== null) this.#own(v, `input of ${opType}`);
    const nodeName = this.#nodeName(options.name ?? opType);
    const values = outputs.map((spec, i) =>
      this.#newValue(`${nodeName}_output_${i}`, spec.dtype, spec.shape),
    );
    this.#nodes.push({
      name: nodeName,
      opType,
      inputs,
      outputs: values,
      attributes: options.attributes ?? {},
    });
    return values;
  }

  // ---- typed operator helpers (opset 17) --------------------------------------------

  matMul(a: Value, b: Value, options: NodeOptions = {}): Value {
    this.#sameType('MatMul', a, b);
    return this.#single(
      'MatMul',
      [a, b],
      a.dtype,
      matMulShape(a.shape, b.shape, this.#where('MatMul')),
      options,
    );
  }

  add(a: Value, b: Value | number, options: NodeOptions = {}): Value {
    return this.#binary('Add', a, b, options);
  }

  sub(a: Value, b: Value | number, options: NodeOptions = {}): Value {
    return this.#binary('Sub', a, b, options);
  }

  mul(a: Value, b: Value | number, options: NodeOptions = {}): Value {
    return this.#binary('Mul', a, b, options);
  }

  div(a: Value, b: Value | number, options: NodeOptions = {}): Value {
    return this.#binary('Div', a, b, options);
  }

  sqrt(x: Value, options: NodeOptions = {}): Value {
    return this.#unary('Sqrt', x, options);
  }

  exp(x: Value, options: NodeOptions = {}): Value {
    return this.#unary('Exp', x, options);
  }

  sin(x: Value, options: NodeOptions = {}): Value {
    return this.#unary('Sin', x, options);
  }

  cos(x: Value, options: NodeOptions = {}): Value {
    return this.#unary('Cos', x, options);
  }

  erf(x: Value, options: NodeOptions = {}): Value {
    return this.#unary('Erf', x, options);
  }

  tanh(x: Value, options: NodeOptions = {}): Value {
    return this.#unary('Tanh', x, options);
  }

  sigmoid(x: Value, options: NodeOptions = {}): Value {
    return this.#unary('Sigmoid', x, options);
  }

  softmax(x: Value, axis = -1, options: NodeOptions = {}): Value {
    if (x.rank !== undefined) normalizeAxis(axis, x.rank, this.#where('Softmax'));
    return this.#single('Softmax', [x], x.dtype, x.shape, {
      ...options,
      attributes: { axis: { int: axis } },
    });
  }

  /** LayerNormalization over the trailing axes from `axis`; `bias` may be null. */
  layerNormalization(
    x: Value,
    scale: Value,
    bias: Value | null,
    { axis = -1, epsilon = 1e-5, ...options }: NodeOptions & { axis?: number; epsilon?: number } = {},
  ): Value {
    const where = this.#where('LayerNormalization');
    if (x.shape !== undefined && scale.shape !== undefined) {
      const a = normalizeAxis(axis, x.shape.length, where);
      const normalized = x.shape.slice(a);
      const ok =
        normalized.length === scale.shape.length &&
        normalized.every((d, i) => typeof d !== 'number' || scale.dim(i) === null || scale.dim(i) === d);
      if (!ok) throw shapeMismatch(`${where}: scale`, formatDims(normalized), scale.shape);
    }
    return this.#single(
      'LayerNormalization',
      bias === null ? [x, scale] : [x, scale, bias],
      x.dtype,
      x.shape,
      {
        ...options,
        attributes: { axis: { int: axis }, epsilon: { float: epsilon } },
      },
    );
  }

  /** Reshape to constant sizes; 0 copies the input dim, -1 takes the rest. */
  reshape(x: Value, shape: readonly number[], options: NodeOptions = {}): Value {
    const out = reshapeShape(x.shape, shape, this.#where('Reshape'));
    return this.#single('Reshape', [x, this.int64Constant(shape)], x.dtype, out, options);
  }

  transpose(x: Value, perm: readonly number[], options: NodeOptions = {}): Value {
    const out = transposeShape(x.shape, perm, this.#where('Transpose'));
    return this.#single('Transpose', [x], x.dtype, out, { ...options, attributes: { perm: { ints: perm } } });
  }

  concat(values: readonly Value[], axis: number, options: NodeOptions = {}): Value {
    const first = values[0];
    if (first === undefined) throw new InvalidArgumentError('Concat: expected at least one input, got none');
    for (const v of values) this.#sameType('Concat', first, v);
    const out = concatShape(
      values.map((v) => v.shape),
      axis,
      this.#where('Concat'),
    );
    return this.#single('Concat', values, first.dtype, out, {
      ...options,
      attributes: { axis: { int: axis } },
    });
  }

  /** Rows of `data` picked by integer `indices` (an embedding lookup at axis 0). */
  gather(data: Value, indices: Value, axis = 0, options: NodeOptions = {}): Value {
    if (indices.dtype !== 'int64' && indices.dtype !== 'int32') {
      throw new InvalidArgumentError(
        `${this.#where('Gather')}: expected int64 or int32 indices, got ${indices.dtype} "${indices.name}"`,
      );
    }
    const out = gatherShape(data.shape, indices.shape, axis, this.#where('Gather'));
    return this.#single('Gather', [data, indices], data.dtype, out, {
      ...options,
      attributes: { axis: { int: axis } },
    });
  }

  unsqueeze(x: Value, axes: readonly number[], options: NodeOptions = {}): Value {
    const out = unsqueezeShape(x.shape, axes, this.#where('Unsqueeze'));
    return this.#single('Unsqueeze', [x, this.int64Constant(axes)], x.dtype, out, options);
  }

  slice(x: Value, spec: SliceSpec, options: NodeOptions = {}): Value {
    const axes = spec.axes ?? spec.starts.map((_, i) => i);
    const steps = spec.steps ?? axes.map(() => 1);
    if (spec.ends.length !== spec.starts.length || axes.length !== spec.starts.length) {
      throw new InvalidArgumentError(
        `${this.#where('Slice')}: expected starts, ends and axes of one length, got ${spec.starts.length}, ${spec.ends.length} and ${axes.length}`,
      );
    }
    const out = sliceShape(
      x.shape,
      { starts: spec.starts, ends: spec.ends, axes, steps },
      this.#where('Slice'),
    );
    const inputs = [
      x,
      this.int64Constant(spec.starts),
      this.int64Constant(spec.ends),
      this.int64Constant(axes),
      this.int64Constant(steps),
    ];
    return this.#single('Slice', inputs, x.dtype, out, options);
  }

  /** Splits along `axis` into pieces of the given sizes. */
  split(x: Value, sizes: readonly number[], axis: number, options: NodeOptions = {}): Value[] {
    const shapes = splitShapes(x.shape, sizes, axis, this.#where('Split'));
    return this.node(
      'Split',
      [x, this.int64Constant(sizes)],
      shapes.map((shape) => ({ dtype: x.dtype, shape })),
      { ...options, attributes: { axis: { int: axis } } },
    );
  }

  reduceMean(x: Value, axes: readonly number[], keepDims = true, options: NodeOptions = {}): Value {
    const out = reduceShape(x.shape, axes, keepDims, this.#where('ReduceMean'));
    return this.#single('ReduceMean', [x], x.dtype, out, {
      ...options,
      attributes: { axes: { ints: axes }, keepdims: { int: keepDims ? 1 : 0 } },
    });
  }

  // ---- output ------------------------------------------------------------------------

  /** The finished model (IR 8, opset 17). */
  toModel(options: ModelOptions = {}): ModelProto {
    if (this.#outputs.length === 0) {
      throw new InvalidArgumentError(`graph "${this.name}": expected at least one graph output, got none`);
    }
    this.#checkWeightsUsed();
    const graph = onnx.GraphProto.create({
      name: this.name,
      node: this.#nodes.map(toNodeProto),
      input: this.#inputs.map(toValueInfo),
      output: this.#outputs.map(toValueInfo),
      initializer: [...this.#parameters].map(([name, p]) => encodeTensor(name, p.data, p.dims)),
    });
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      producerName: options.producerName ?? 'noiserefine',
      docString: options.docString ?? '',
      graph,
      metadataProps: metadataProps(options.metadata ?? {}),
    });
  }

  // ---- internals ---------------------------------------------------------------------

  #qualify(name: string): string {
    const path = this.scopePath;
    return path === '' ? name : `${path}.${name}`;
  }

  #nodeName(label: string): string {
    const base = this.#qualify(label);
    let name = base;
    for (let i = 1; this.#nodeNames.has(name); i++) name = `${base}_${i}`;
    this.#nodeNames.add(name);
    return name;
  }

  /** Node name for messages: where in the module tree the failing op was being added. */
  #where(opType: string): string {
    return this.#qualify(opType);
  }

  #newValue(name: string, dtype: DataType, shape: ValueShape, exactName = false): Value {
    let unique = name;
    if (this.#valueNames.has(unique)) {
      if (exactName) throw new InvalidArgumentError(`value name "${name}" is already used in this graph`);
      let i = 1;
      while (this.#valueNames.has(`${name}_${i}`)) i++;
      unique = `${name}_${i}`;
    }
    this.#valueNames.add(unique);
    return new Value(this, unique, dtype, shape === undefined ? undefined : [...shape]);
  }

  #own(value: Value, role: string): void {
    if (value.owner !== this) {
      throw new InvalidArgumentError(`${role}: value "${value.name}" belongs to another GraphBuilder`);
    }
  }

  #sameType(opType: string, a: Value, b: Value): void {
    if (a.dtype !== b.dtype) {
      throw new InvalidArgumentError(
        `${this.#where(opType)}: expected operands of one type, got ${a.dtype} "${a.name}" and ${b.dtype} "${b.name}"`,
      );
    }
  }

  #single(
    opType: string,
    inputs: readonly Value[],
    dtype: DataType,
    shape: ValueShape,
    options: NodeOptions,
  ) {
    return this.node(opType, inputs, [{ dtype, shape }], options)[0] as Value;
  }

  #unary(opType: string, x: Value, options: NodeOptions): Value {
    return this.#single(opType, [x], x.dtype, x.shape, options);
  }

  #binary(opType: string, a: Value, b: Value | number, options: NodeOptions): Value {
    const rhs = typeof b === 'number' ? this.#scalarLike(a, b) : b;
    this.#sameType(opType, a, rhs);
    const out = broadcastShapes(a.shape, rhs.shape, this.#where(opType));
    return this.#single(opType, [a, rhs], a.dtype, out, options);
  }

  #scalarLike(like: Value, x: number): Value {
    if (like.dtype === 'float32') return this.constant(x);
    if (like.dtype === 'int64') return this.constant(BigInt64Array.of(BigInt(x)));
    if (like.dtype === 'int32') return this.constant(Int32Array.of(x));
    throw new InvalidArgumentError(
      `a number operand needs a numeric tensor, got ${like.dtype} "${like.name}"`,
    );
  }

  #parameterValues(fullName: string, size: number, init: ParameterInit): Float32Array {
    const given = this.#weights?.get(fullName);
    if (given !== undefined) {
      if (given.length !== size) {
        throw new InvalidArgumentError(
          `weights["${fullName}"]: expected ${size} values, got ${given.length}`,
        );
      }
      this.#usedWeights.add(fullName);
      return given.slice();
    }
    if (this.#exactWeights) {
      throw new InvalidArgumentError(`weights: expected a value for parameter "${fullName}", got none`);
    }
    return initialValues(init, size, this.#generator);
  }

  #checkWeightsUsed(): void {
    if (!this.#exactWeights || this.#weights === undefined) return;
    const unused = [...this.#weights.keys()].filter((k) => !this.#usedWeights.has(k));
    if (unused.length > 0) {
      throw new InvalidArgumentError(
        `weights: expected only names of this graph's parameters, got unused ${unused.map((u) => `"${u}"`).join(', ')}`,
      );
    }
  }
}

function toAttribute(name: string, value: AttributeValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in value) return onnx.AttributeProto.create({ name, type: T.INT, i: value.int });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.float });
  if ('ints' in value) return onnx.AttributeProto.create({ name, type: T.INTS, ints: [...value.ints] });
  if ('floats' in value)
    return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...value.floats] });
  if ('string' in value) {
    return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value.string) });
  }
  return onnx.AttributeProto.create({ name, type: T.TENSOR, t: value.tensor });
}

function toNodeProto(node: NodeRecord): NodeProto {
  return onnx.NodeProto.create({
    name: node.name,
    opType: node.opType,
    input: node.inputs.map((v) => v?.name ?? ''),
    output: node.outputs.map((v) => v.name),
    attribute: Object.entries(node.attributes).map(([k, v]) => toAttribute(k, v)),
  });
}

function toDim(d: Dim): { dimValue?: number; dimParam?: string } {
  if (typeof d === 'number') return { dimValue: d };
  if (typeof d === 'string') return { dimParam: d };
  return {};
}

function toValueInfo(value: Value): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name: value.name,
    type: {
      tensorType: {
        elemType: toProtoDataType(value.dtype),
        ...(value.shape === undefined ? {} : { shape: { dim: value.shape.map(toDim) } }),
      },
    },
  });
}
