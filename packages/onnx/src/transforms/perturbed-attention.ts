import { InvalidArgumentError } from '@noiserefine/core';
import { getMetadata, setMetadata } from '../builder/metadata';
import { decodeModel, encodeModel, type ModelProto, onnx } from '../proto';
import { type AttentionLayer, findAttentionSites } from './attention-layers';
import { eliminateDeadCode } from './dead-code';
import { GraphIndex, type NodeLike } from './graph-index';
import { compileLayerPatterns, matchesLayerPattern } from './layer-patterns';

const WHAT = 'makePerturbedAttentionModel';

/** metadata_props key listing the perturbed layers' paths (a JSON array), so a loader can tell the model apart. */
export const PERTURBED_ATTENTION_METADATA_KEY = 'perturbed_attention_layers';

/** Defaults tried in order, as diffusers' PAG pipelines set them: UNets, then DiT-style transformers. */
const DEFAULT_LAYER_PATTERNS = ['mid', 'blocks.1'] as const;

/** Fused runtime attention operators this pass cannot see into. */
const FUSED_ATTENTION_OPS = new Set([
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
]);

export interface PerturbedAttentionOptions {
  /**
   * Which self-attention layers to perturb, as diffusers' `pag_applied_layers`: regular
   * expressions searched in each layer's module path (see `findAttentionLayers`), e.g.
   * 'mid', 'down_blocks.2', 'blocks.1', 'blocks.(8|9)'. A match may not end inside a number
   * ('blocks.1' is not 'blocks.12'). Every pattern must select at least one self-attention.
   * Default: ['mid'] when a self-attention path contains 'mid' (UNets), else ['blocks.1'].
   */
  appliedLayers?: string | readonly string[];
}

/**
 * Perturbed-Attention Guidance's perturbed denoiser as a new model: in the selected
 * self-attention layers the attention map is the identity, so each token's attention output
 * is its own value vector, out = to_out(to_v(h)). The probabilities·values product is replaced
 * by V itself in its head-split layout, so head merge and output projection run unchanged;
 * the query/key branch, now dead, is removed. Cross-attention is never perturbed. Run the
 * result on the conditional inputs to get PAG's perturbed prediction.
 *
 * The input model is not modified; untouched nodes and tensors are shared with it.
 */
export function makePerturbedAttentionModel(
  model: ModelProto | Uint8Array,
  options: PerturbedAttentionOptions = {},
): ModelProto {
  const source = model instanceof Uint8Array ? decodeModel(model) : model;
  if (!source.graph) throw new InvalidArgumentError(`${WHAT}: expected a model with a graph, got none`);
  const index = new GraphIndex(source.graph);
  const sites = findAttentionSites(index);
  const selected = selectLayers(
    index,
    sites.map((s) => s.layer),
    options.appliedLayers,
  );

  const replacements = new Map<NodeLike, NodeLike>();
  for (const site of sites) {
    if (!selected.has(site.layer)) continue;
    const weighting = site.weightingNode;
    replacements.set(
      weighting,
      onnx.NodeProto.create({
        name: `${weighting.name || site.layer.path}/identity_attention`,
        opType: 'Identity',
        input: [site.layer.values],
        output: [weighting.output?.[0] ?? ''],
      }),
    );
  }
  const graph = eliminateDeadCode({
    ...source.graph,
    node: index.nodes.map((n) => replacements.get(n) ?? n),
  });

  const result = onnx.ModelProto.create({ ...source, graph });
  const earlier = getMetadata(source)[PERTURBED_ATTENTION_METADATA_KEY];
  const paths = [...(earlier ? (JSON.parse(earlier) as string[]) : []), ...[...selected].map((l) => l.path)];
  setMetadata(result, { [PERTURBED_ATTENTION_METADATA_KEY]: JSON.stringify(paths) });
  return result;
}

/** `makePerturbedAttentionModel` from ONNX bytes to ONNX bytes. */
export function makePerturbedAttentionModelBytes(
  bytes: Uint8Array,
  options: PerturbedAttentionOptions = {},
): Uint8Array {
  return encodeModel(makePerturbedAttentionModel(bytes, options));
}

function selectLayers(
  index: GraphIndex,
  layers: readonly AttentionLayer[],
  appliedLayers: PerturbedAttentionOptions['appliedLayers'],
): Set<AttentionLayer> {
  const selfLayers = layers.filter((l) => l.kind === 'self');
  const crossLayers = layers.filter((l) => l.kind === 'cross');
  const found = () =>
    `self-attention layers found: ${list(selfLayers)}` +
    (crossLayers.length > 0 ? `; cross-attention layers (never perturbed): ${list(crossLayers)}` : '');

  if (selfLayers.length === 0) {
    const fused = [...new Set(index.nodes.map((n) => n.opType ?? ''))].filter((op) =>
      FUSED_ATTENTION_OPS.has(op),
    );
    throw new InvalidArgumentError(
      `${WHAT}: expected a model with self-attention (a Softmax whose probabilities weight values ` +
        `projected from the same tokens as the queries), got ${
          crossLayers.length > 0 ? `only cross-attention: ${list(crossLayers)}` : 'no attention'
        }${fused.length > 0 ? `; fused ${fused.join('/')} nodes are not supported, export the model unfused` : ''}`,
    );
  }

  let patterns: readonly string[];
  if (appliedLayers === undefined) {
    const fallback = DEFAULT_LAYER_PATTERNS.find((p) =>
      selfLayers.some((l) => matchesLayerPattern(new RegExp(p), l.path)),
    );
    if (fallback === undefined) {
      throw new InvalidArgumentError(
        `${WHAT}: no default appliedLayers for this model (no self-attention path contains ` +
          `${DEFAULT_LAYER_PATTERNS.map((p) => `"${p}"`).join(' or ')}); expected patterns for the ${found()}`,
      );
    }
    patterns = [fallback];
  } else {
    patterns = typeof appliedLayers === 'string' ? [appliedLayers] : appliedLayers;
  }

  const selected = new Set<AttentionLayer>();
  const compiled = compileLayerPatterns(patterns, `${WHAT} appliedLayers`);
  compiled.forEach((re, i) => {
    const matches = selfLayers.filter((l) => matchesLayerPattern(re, l.path));
    if (matches.length === 0) {
      const crossOnly = crossLayers.some((l) => matchesLayerPattern(re, l.path));
      throw new InvalidArgumentError(
        `${WHAT}: appliedLayers pattern ${JSON.stringify(patterns[i])} matches no self-attention layer` +
          `${crossOnly ? ' (only cross-attention, which PAG never perturbs)' : ''}; expected a pattern matching one of the ${found()}`,
      );
    }
    for (const m of matches) selected.add(m);
  });
  return selected;
}

function list(layers: readonly AttentionLayer[]): string {
  return layers.map((l) => JSON.stringify(l.path)).join(', ');
}
