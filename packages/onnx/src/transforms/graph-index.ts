import type onnxProto from 'onnx-proto';

export type GraphLike = onnxProto.onnx.IGraphProto;
export type NodeLike = onnxProto.onnx.INodeProto;

/** Value names a node reads, including outer-scope names its subgraphs (If/Loop/Scan bodies) read. */
export function nodeReads(node: NodeLike): string[] {
  const names = (node.input ?? []).filter((n) => n !== '');
  for (const attr of node.attribute ?? []) {
    for (const sub of [attr.g, ...(attr.graphs ?? [])]) {
      if (sub) for (const inner of sub.node ?? []) names.push(...nodeReads(inner));
    }
  }
  return names;
}

function hasSubgraph(node: NodeLike): boolean {
  return (node.attribute ?? []).some((a) => a.g != null || (a.graphs?.length ?? 0) > 0);
}

/**
 * Lookup tables over one graph: which node produces a value, which nodes read it, and
 * whether a value is static. Static values are those computed only from initializers,
 * Constant nodes and tensor shapes (Shape/Size): weights, scales, reshape targets. Every
 * other value carries activations. Passes use this to tell a projection's weight from its
 * input and a head-split Reshape's data from its target shape without knowing shapes.
 */
export class GraphIndex {
  readonly nodes: readonly NodeLike[];
  readonly initializers: ReadonlySet<string>;
  readonly #producers = new Map<string, NodeLike>();
  readonly #consumers = new Map<string, NodeLike[]>();
  readonly #static = new Map<string, boolean>();

  constructor(readonly graph: GraphLike) {
    this.nodes = graph.node ?? [];
    this.initializers = new Set(
      [...(graph.initializer ?? []), ...(graph.sparseInitializer ?? []).map((s) => s.values)]
        .map((t) => t?.name ?? '')
        .filter((n) => n !== ''),
    );
    for (const node of this.nodes) {
      for (const out of node.output ?? []) if (out !== '') this.#producers.set(out, node);
      for (const name of new Set(nodeReads(node))) {
        const list = this.#consumers.get(name);
        if (list) list.push(node);
        else this.#consumers.set(name, [node]);
      }
    }
  }

  producer(value: string): NodeLike | undefined {
    return this.#producers.get(value);
  }

  consumers(value: string): readonly NodeLike[] {
    return this.#consumers.get(value) ?? [];
  }

  isGraphOutput(value: string): boolean {
    return (this.graph.output ?? []).some((o) => o.name === value);
  }

  /** True for values derived only from initializers, constants and shapes (see the class comment). */
  isStatic(value: string): boolean {
    const known = this.#static.get(value);
    if (known !== undefined) return known;
    // Iterative post-order walk: graphs can hold chains far deeper than the call stack.
    const stack = [value];
    while (stack.length > 0) {
      const name = stack[stack.length - 1] as string;
      if (this.#static.has(name)) {
        stack.pop();
        continue;
      }
      const direct = this.#directStatic(name);
      if (direct !== undefined) {
        this.#static.set(name, direct);
        stack.pop();
        continue;
      }
      const inputs = (this.#producers.get(name)?.input ?? []).filter((n) => n !== '');
      const pending = inputs.filter((n) => !this.#static.has(n));
      if (pending.length > 0) {
        stack.push(...pending);
        continue;
      }
      this.#static.set(
        name,
        inputs.every((n) => this.#static.get(n)),
      );
      stack.pop();
    }
    return this.#static.get(value) as boolean;
  }

  /** Static-ness decided without looking at inputs, or undefined when the inputs decide. */
  #directStatic(name: string): boolean | undefined {
    if (this.initializers.has(name)) return true;
    const node = this.#producers.get(name);
    // Graph inputs and outer-scope values carry data.
    if (node === undefined) return false;
    const op = node.opType ?? '';
    if (op === 'Constant' || op === 'Shape' || op === 'Size') return true;
    if (hasSubgraph(node) || op.startsWith('Random')) return false;
    if ((node.input ?? []).every((n) => n === '')) return true;
    return undefined;
  }

  /** The inputs of `node` that carry activations. */
  dynamicInputs(node: NodeLike): string[] {
    return (node.input ?? []).filter((n) => n !== '' && !this.isStatic(n));
  }
}
