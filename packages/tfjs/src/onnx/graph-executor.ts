import * as tf from '@tensorflow/tfjs-core';
import {
  type Dim,
  InvalidArgumentError,
  ModelLoadError,
  ModelSignatureError,
  NoiseRefineError,
  UnsupportedOperatorError,
  type ValueInfo,
} from '@noiserefine/core';
import {
  decodeModel,
  encodeModel,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  onnx,
  type TensorProto,
  type ValueInfoProto,
} from '@noiserefine/onnx';
import { NodeAttributes } from './attributes';
import { type ConvolutionMode, type OpContext, type OpDefinition, operatorTable } from './ops/index';
import { hostToTensor } from './ops/indexing-ops';
import {
  decodeTensorProto,
  type ExternalDataReader,
  type Int64Like,
  isFloatType,
  ONNX_DTYPE_NAMES,
  toNumber,
} from './tensor-proto';

/** Which float initializers become trainable tf.Variables. */
export type TrainableSelector =
  | boolean
  | RegExp
  | readonly string[]
  | ((name: string, shape: readonly number[]) => boolean);

export interface OnnxGraphOptions {
  /** Float initializers to load as trainable variables (default: none). */
  trainable?: TrainableSelector;
  /** 'auto' uses tfjs conv kernels where they apply; 'patches' always builds convolutions from matrix products. */
  convolution?: ConvolutionMode;
  /** Reads initializers stored in external files. */
  readExternal?: ExternalDataReader;
  /** Fixes symbolic input dimensions in the reported metadata, e.g. { batch: 2 }. */
  freeDimensionOverrides?: Record<string, number>;
  /** Names the model in messages. */
  modelName?: string;
}

interface Step {
  readonly node: NodeProto;
  readonly def: OpDefinition;
  readonly ctx: OpContext;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

interface Plan {
  readonly steps: readonly Step[];
  /** Values to dispose right after step i (last use passed, or never used). */
  readonly release: readonly (readonly string[])[];
  /** Graph inputs the requested outputs depend on. */
  readonly requiredInputs: readonly string[];
}

const DEFAULT_DOMAINS = new Set(['', 'ai.onnx']);
let graphCounter = 0;

/**
 * Models decoded from bytes consist of protobuf message instances, whose absent fields read
 * as defaults; models assembled in code may hold plain objects instead. Those take one
 * encode/decode round trip so the executor can rely on every field being present.
 */
function asMessageInstances(model: ModelProto): ModelProto {
  const graph = model.graph;
  const decoded =
    graph instanceof onnx.GraphProto &&
    graph.node.every((n) => n instanceof onnx.NodeProto) &&
    graph.initializer.every((t) => t instanceof onnx.TensorProto);
  return decoded ? model : decodeModel(encodeModel(model));
}

function selectsTrainable(
  selector: TrainableSelector | undefined,
  name: string,
  shape: readonly number[],
): boolean {
  if (selector === undefined || selector === false) return false;
  if (selector === true) return true;
  if (selector instanceof RegExp) return selector.test(name);
  if (typeof selector === 'function') return selector(name, shape);
  return selector.includes(name);
}

function valueInfoOf(v: ValueInfoProto, overrides: Record<string, number> | undefined): ValueInfo {
  const tensorType = v.type?.tensorType;
  const elemType = tensorType?.elemType ?? 0;
  const dims: Dim[] = (tensorType?.shape?.dim ?? []).map((d) => {
    if (d.dimParam) return overrides?.[d.dimParam] ?? d.dimParam;
    // Decoded messages own only the fields present in the file (dimValue otherwise reads 0).
    if (Object.hasOwn(d, 'dimValue') && d.dimValue !== null && d.dimValue !== undefined) {
      return toNumber(d.dimValue as Int64Like);
    }
    return null;
  });
  return { name: v.name ?? '', dtype: ONNX_DTYPE_NAMES[elemType] ?? 'float32', shape: dims };
}

/**
 * An ONNX graph executed with tfjs ops. Loading validates every operator (an unsupported
 * one fails here, not mid-run), uploads initializers (optionally as trainable variables)
 * and pre-evaluates Constant nodes. `execute` is synchronous, so it can run inside
 * tf.grad / tf.variableGrads and gradients flow to the variables.
 */
export class OnnxGraph {
  readonly proto: ModelProto;
  readonly opset: number;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** Trainable initializers, by initializer name. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  readonly modelName: string;
  readonly #constants = new Map<string, tf.Tensor>();
  readonly #constantTensors = new Set<tf.Tensor>();
  readonly #hostValues = new WeakMap<tf.Tensor, number[]>();
  readonly #producers = new Map<string, Step>();
  readonly #steps: Step[];
  readonly #plans = new Map<string, Plan>();
  #disposed = false;

  constructor(model: ModelProto, options: OnnxGraphOptions = {}) {
    const proto = asMessageInstances(model);
    this.proto = proto;
    this.modelName = options.modelName ?? (proto.graph?.name || 'model');
    const graph = proto.graph as GraphProto | null | undefined;
    if (!graph) throw new ModelLoadError(this.modelName, 'the ONNX model has no graph');
    const opsetEntry = proto.opsetImport.find((o) => DEFAULT_DOMAINS.has(o.domain ?? ''));
    this.opset = opsetEntry ? toNumber(opsetEntry.version as Int64Like) : 1;

    // Decoded models hold message instances, so every field is present.
    const initializers = graph.initializer as TensorProto[];
    const initializerNames = new Set(initializers.map((t) => t.name));
    this.inputs = graph.input
      .filter((v) => !initializerNames.has(v.name ?? ''))
      .map((v) => valueInfoOf(v as ValueInfoProto, options.freeDimensionOverrides));
    this.outputs = graph.output.map((v) => valueInfoOf(v as ValueInfoProto, options.freeDimensionOverrides));

    const table = operatorTable(options.convolution ?? 'auto');
    const nodes = graph.node as NodeProto[];
    const steps = nodes.map((node, i) => this.#prepareNode(node, i, table));
    const graphId = graphCounter++;
    const variables = new Map<string, tf.Variable>();
    try {
      for (const init of initializers) {
        const host = decodeTensorProto(init, options.readExternal);
        const trainable =
          isFloatType(init.dataType) && selectsTrainable(options.trainable, init.name, host.shape);
        if (trainable) {
          const initial = hostToTensor(host);
          variables.set(init.name, tf.variable(initial, true, `onnx${graphId}/${init.name}`));
          initial.dispose();
        } else {
          this.#addConstant(init.name, hostToTensor(host));
        }
      }
      this.variables = variables;
      this.#steps = this.#order(
        steps.filter((s) => {
          if (s.node.opType !== 'Constant') return true;
          // Constants are evaluated once, here.
          const [value] = this.#runStep(s, []);
          this.#addConstant(s.outputs[0] as string, value as tf.Tensor);
          return false;
        }),
        new Set([...this.inputs.map((v) => v.name), ...initializerNames, ...this.#constants.keys()]),
      );
    } catch (error) {
      for (const v of variables.values()) v.dispose();
      this.#disposeConstants();
      if (error instanceof NoiseRefineError) throw error;
      throw new ModelLoadError(this.modelName, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
    for (const s of this.#steps) for (const out of s.outputs) if (out) this.#producers.set(out, s);
  }

  #addConstant(name: string, t: tf.Tensor): void {
    this.#constants.set(name, t);
    this.#constantTensors.add(t);
  }

  #disposeConstants(): void {
    for (const t of this.#constants.values()) t.dispose();
    this.#constants.clear();
    this.#constantTensors.clear();
  }

  #prepareNode(node: NodeProto, index: number, table: Record<string, OpDefinition>): Step {
    const name = node.name || `${node.opType}_${index}`;
    const domain = node.domain ?? '';
    const def = DEFAULT_DOMAINS.has(domain) ? table[node.opType] : undefined;
    if (!def) {
      throw new UnsupportedOperatorError(
        domain && !DEFAULT_DOMAINS.has(domain) ? `${domain}.${node.opType}` : node.opType,
        name,
        'tfjs',
      );
    }
    const attrs = new NodeAttributes(node);
    const where = `node "${name}" (${node.opType})`;
    const ctx: OpContext = {
      attrs,
      opset: this.opset,
      where,
      outputCount: node.output.length,
      ints: (t) => this.#readHost(t),
      floats: (t) => this.#readHost(t),
    };
    def.check?.(ctx);
    return { node, def, ctx, inputs: node.input, outputs: node.output };
  }

  #readHost(t: tf.Tensor): number[] {
    const cached = this.#hostValues.get(t);
    if (cached) return cached;
    const values = Array.from(t.dataSync() as ArrayLike<number>);
    if (this.#constantTensors.has(t)) this.#hostValues.set(t, values);
    return values;
  }

  /** Orders steps so each runs after its inputs' producers (ONNX files should already be sorted). */
  #order(steps: Step[], available: Set<string>): Step[] {
    const ordered: Step[] = [];
    const pending = new Set(steps);
    const known = new Set(available);
    known.add('');
    while (pending.size > 0) {
      let progressed = false;
      for (const s of pending) {
        if (s.inputs.every((i) => known.has(i))) {
          ordered.push(s);
          for (const o of s.outputs) known.add(o);
          pending.delete(s);
          progressed = true;
        }
      }
      if (!progressed) {
        const [stuck] = pending as Set<Step>;
        const missing = stuck?.inputs.filter((i) => !known.has(i)) ?? [];
        throw new ModelLoadError(
          this.modelName,
          `${stuck?.ctx.where}: input ${missing.map((m) => `"${m}"`).join(', ')} is produced by no node, initializer or graph input (or the graph has a cycle)`,
        );
      }
    }
    return ordered;
  }

  #plan(outputs: readonly string[]): Plan {
    const key = outputs.join('\u0000');
    const cached = this.#plans.get(key);
    if (cached) return cached;
    const needed = new Set<string>(outputs);
    const chosen = new Set<Step>();
    const requiredInputs = new Set<string>();
    const inputNames = new Set(this.inputs.map((v) => v.name));
    const stack = [...outputs];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      const producer = this.#producers.get(name);
      if (!producer) {
        if (inputNames.has(name)) requiredInputs.add(name);
        continue;
      }
      if (chosen.has(producer)) continue;
      chosen.add(producer);
      for (const i of producer.inputs) {
        if (i && !needed.has(i)) {
          needed.add(i);
          stack.push(i);
        }
      }
    }
    const steps = this.#steps.filter((s) => chosen.has(s));
    const lastUse = new Map<string, number>();
    steps.forEach((s, i) => {
      for (const name of s.inputs) if (name) lastUse.set(name, i);
    });
    const keep = new Set(outputs);
    const release = steps.map((s, i) => {
      const done = s.inputs.filter(
        (n) => n && lastUse.get(n) === i && !keep.has(n) && this.#producers.has(n),
      );
      const unused = s.outputs.filter((n) => n && !lastUse.has(n) && !keep.has(n));
      return [...new Set([...done, ...unused])];
    });
    const plan = { steps, release, requiredInputs: [...requiredInputs] };
    this.#plans.set(key, plan);
    return plan;
  }

  #runStep(step: Step, inputs: (tf.Tensor | undefined)[]): tf.Tensor[] {
    try {
      return tf.tidy(() => {
        const result = step.def.run(inputs, step.ctx);
        const list = Array.isArray(result) ? result : [result];
        // Never hand back an input object: releasing the input would free the output too.
        return list.map((t) => (inputs.includes(t) ? tf.clone(t) : t));
      });
    } catch (error) {
      if (error instanceof NoiseRefineError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new InvalidArgumentError(`${step.ctx.where} failed: ${message}`, { cause: error });
    }
  }

  /**
   * Runs the graph on tfjs tensors and returns the requested outputs (all by default).
   * Feeds stay owned by the caller; the returned tensors are new and owned by the caller.
   */
  execute(
    feeds: Readonly<Record<string, tf.Tensor>>,
    outputs?: readonly string[],
  ): Record<string, tf.Tensor> {
    if (this.#disposed) throw new InvalidArgumentError(`model "${this.modelName}" was used after dispose()`);
    const names = outputs ?? this.outputs.map((o) => o.name);
    const plan = this.#plan(names);
    const missing = plan.requiredInputs.filter((n) => !feeds[n]);
    if (missing.length > 0) {
      throw new ModelSignatureError(
        `model "${this.modelName}": missing input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`,
      );
    }
    const values = new Map<string, tf.Tensor>();
    const lookup = (name: string): tf.Tensor | undefined =>
      values.get(name) ?? feeds[name] ?? this.variables.get(name) ?? this.#constants.get(name);
    try {
      plan.steps.forEach((step, i) => {
        const ins = step.inputs.map((n) => (n ? lookup(n) : undefined));
        const outs = this.#runStep(step, ins);
        outs.forEach((t, k) => {
          const name = step.outputs[k];
          if (name && !values.has(name)) values.set(name, t);
          else t.dispose();
        });
        for (const name of plan.release[i] as string[]) {
          values.get(name)?.dispose();
          values.delete(name);
        }
      });
      const result: Record<string, tf.Tensor> = {};
      for (const name of names) {
        const own = values.get(name);
        if (own) {
          result[name] = own;
          values.delete(name);
        } else {
          const borrowed = lookup(name);
          if (!borrowed)
            throw new ModelSignatureError(`model "${this.modelName}": output "${name}" was not produced`);
          result[name] = tf.clone(borrowed);
        }
      }
      return result;
    } finally {
      for (const t of values.values()) t.dispose();
    }
  }

  /** The initializer names of the trainable variables, keyed by the variable. */
  variableNames(): Map<tf.Variable, string> {
    return new Map([...this.variables].map(([name, v]) => [v, name]));
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const v of this.variables.values()) v.dispose();
    this.#disposeConstants();
  }
}
