import { type GraphLike, type NodeLike, nodeReads } from './graph-index';

/**
 * The graph without the nodes no graph output depends on, and without the initializers and
 * value_info entries only those nodes used. Inputs that are not initializers stay, so the
 * model's signature never changes; an initializer also listed as an input (IR < 4 files) goes
 * with its input entry. Unchanged parts are shared with `graph`, which is not modified.
 */
export function eliminateDeadCode(graph: GraphLike): GraphLike {
  const nodes = graph.node ?? [];
  const producers = new Map<string, NodeLike>();
  for (const node of nodes) for (const out of node.output ?? []) if (out !== '') producers.set(out, node);

  const live = new Set<string>();
  const liveNodes = new Set<NodeLike>();
  const pending = (graph.output ?? []).map((o) => o.name ?? '').filter((n) => n !== '');
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (live.has(name)) continue;
    live.add(name);
    const node = producers.get(name);
    if (node === undefined || liveNodes.has(node)) continue;
    liveNodes.add(node);
    pending.push(...nodeReads(node));
  }

  const keptNodes = nodes.filter((n) => liveNodes.has(n));
  const produced = new Set(keptNodes.flatMap((n) => n.output ?? []));
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  for (const s of graph.sparseInitializer ?? []) initializerNames.add(s.values?.name ?? '');
  return {
    ...graph,
    node: keptNodes,
    initializer: (graph.initializer ?? []).filter((t) => live.has(t.name ?? '')),
    sparseInitializer: (graph.sparseInitializer ?? []).filter((s) => live.has(s.values?.name ?? '')),
    input: (graph.input ?? []).filter((i) => !initializerNames.has(i.name ?? '') || live.has(i.name ?? '')),
    valueInfo: (graph.valueInfo ?? []).filter((v) => produced.has(v.name ?? '')),
  };
}
