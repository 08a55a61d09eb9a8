import { InvalidArgumentError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { getMetadata } from '../builder/metadata';
import { decodeModel, encodeModel, type ModelProto } from '../proto';
import { findAttentionLayers } from './attention-layers';
import {
  makePerturbedAttentionModel,
  makePerturbedAttentionModelBytes,
  PERTURBED_ATTENTION_METADATA_KEY,
} from './perturbed-attention';
import { loadPagFixture, maxAbsDiff, runModel } from './test-support/pag-fixtures';

// Measured differences to torch are below 1e-6; the perturbations themselves move outputs by 0.19–0.57.
const TOLERANCE = 1e-5;

const softmaxNames = (model: ModelProto) =>
  (model.graph?.node ?? []).filter((n) => n.opType === 'Softmax').map((n) => n.name ?? '');

function errorOf(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

describe.each(['pag-unet', 'pag-dit'] as const)(
  'makePerturbedAttentionModel on the torch export %s',
  (name) => {
    const { bytes, record } = loadPagFixture(name);

    it('finds the self- and cross-attention modules torch has, under their module names', () => {
      const layers = findAttentionLayers(bytes);
      expect(
        layers
          .filter((l) => l.kind === 'self')
          .map((l) => l.path)
          .sort(),
      ).toEqual(record.selfAttention);
      expect(
        layers
          .filter((l) => l.kind === 'cross')
          .map((l) => l.path)
          .sort(),
      ).toEqual(record.crossAttention);
    });

    it('leaves the untransformed export equal to the normal torch forward', async () => {
      const out = await runModel(bytes, record.inputs, record.outputName);
      expect(maxAbsDiff(out, record.normal.data)).toBeLessThan(TOLERANCE);
    });

    it.each(record.cases.map((c) => [c.appliedLayers.join(', '), c] as const))(
      'matches torch with identity attention in the layers of [%s]',
      async (_, c) => {
        const model = makePerturbedAttentionModel(bytes, { appliedLayers: c.appliedLayers });
        const out = await runModel(model, record.inputs, record.outputName);
        expect(maxAbsDiff(out, c.output.data)).toBeLessThan(TOLERANCE);
        expect(maxAbsDiff(out, record.normal.data)).toBeGreaterThan(100 * TOLERANCE);
        expect(JSON.parse(getMetadata(model)[PERTURBED_ATTENTION_METADATA_KEY] ?? '[]').sort()).toEqual(
          c.perturbedModules,
        );
        // The perturbed layers lose their softmax (dead code); every other attention keeps it.
        const remaining = findAttentionLayers(model).map((l) => l.path);
        expect(remaining.sort()).toEqual(
          [...record.selfAttention, ...record.crossAttention]
            .filter((p) => !c.perturbedModules.includes(p))
            .sort(),
        );
      },
    );

    it('picks diffusers’ default layers when none are given', async () => {
      const expected = record.cases.find((c) => c.appliedLayers.length === 1)!;
      const out = await runModel(makePerturbedAttentionModel(bytes), record.inputs, record.outputName);
      expect(maxAbsDiff(out, expected.output.data)).toBeLessThan(TOLERANCE);
    });
  },
);

describe('makePerturbedAttentionModel layer selection', () => {
  const { bytes, record } = loadPagFixture('pag-unet');
  const original = decodeModel(bytes);
  const mid = 'mid_block.attentions.0.transformer_blocks.0.attn1';
  const down = 'down_blocks.0.attentions.0.transformer_blocks.0.attn1';

  it('perturbs only the matched self-attention and never cross-attention', () => {
    const midOnly = softmaxNames(makePerturbedAttentionModel(original, { appliedLayers: ['mid'] }));
    expect(midOnly).not.toContain('/mid_block/attentions.0/transformer_blocks.0/attn1/Softmax');
    expect(midOnly).toContain('/mid_block/attentions.0/transformer_blocks.0/attn2/Softmax');
    expect(midOnly).toContain('/down_blocks.0/attentions.0/transformer_blocks.0/attn1/Softmax');

    // 'attentions' matches all four attentions; only the two self-attentions are perturbed.
    const all = makePerturbedAttentionModel(original, { appliedLayers: 'attentions' });
    expect(JSON.parse(getMetadata(all)[PERTURBED_ATTENTION_METADATA_KEY]!)).toEqual([down, mid]);
    expect(findAttentionLayers(all).map((l) => [l.path, l.kind])).toEqual([
      ['down_blocks.0.attentions.0.transformer_blocks.0.attn2', 'cross'],
      ['mid_block.attentions.0.transformer_blocks.0.attn2', 'cross'],
    ]);
  });

  it('removes the dead query/key branch and the weights only it used', () => {
    const perturbed = makePerturbedAttentionModel(original, { appliedLayers: ['down'] });
    const nodeNames = new Set(perturbed.graph!.node!.map((n) => n.name));
    const scope = '/down_blocks.0/attentions.0/transformer_blocks.0/attn1';
    for (const dead of ['to_q/MatMul', 'to_k/MatMul', 'MatMul', 'Softmax', 'MatMul_1']) {
      expect(nodeNames.has(`${scope}/${dead}`)).toBe(false);
    }
    expect(nodeNames.has(`${scope}/to_v/MatMul`)).toBe(true);
    expect(nodeNames.has(`${scope}/MatMul_1/identity_attention`)).toBe(true);
    const initializers = perturbed.graph!.initializer!.map((t) => t.name!);
    const used = new Set(perturbed.graph!.node!.flatMap((n) => n.input ?? []));
    expect(initializers.every((t) => used.has(t))).toBe(true);
    expect(initializers.length).toBe(original.graph!.initializer!.length - 2);
  });

  it('does not modify its input and composes: mid, then down, equals both at once', async () => {
    const before = Buffer.from(encodeModel(original));
    const midFirst = makePerturbedAttentionModel(original, { appliedLayers: ['mid'] });
    expect(Buffer.from(encodeModel(original)).equals(before)).toBe(true);
    const both = makePerturbedAttentionModelBytes(encodeModel(midFirst), { appliedLayers: ['down'] });
    expect(JSON.parse(getMetadata(decodeModel(both))[PERTURBED_ATTENTION_METADATA_KEY]!)).toEqual([
      mid,
      down,
    ]);
    const expected = record.cases.find((c) => c.appliedLayers.length === 2)!;
    const out = await runModel(both, record.inputs, record.outputName);
    expect(maxAbsDiff(out, expected.output.data)).toBeLessThan(TOLERANCE);
  });

  it('rejects a pattern that matches no self-attention, listing the layers it found', () => {
    const error = errorOf(() =>
      makePerturbedAttentionModel(original, { appliedLayers: ['mid', 'up_blocks'] }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toContain('pattern "up_blocks" matches no self-attention layer');
    expect(error.message).toContain(`"${down}", "${mid}"`);
    expect(error.message).toContain('cross-attention layers (never perturbed)');

    const cross = errorOf(() => makePerturbedAttentionModel(original, { appliedLayers: 'attn2' }));
    expect(cross.message).toContain('only cross-attention, which PAG never perturbs');
  });

  it('rejects malformed patterns and models without self-attention', () => {
    expect(() => makePerturbedAttentionModel(original, { appliedLayers: [] })).toThrow(
      /at least one layer pattern/,
    );
    expect(() => makePerturbedAttentionModel(original, { appliedLayers: ['mid_block.(attn'] })).toThrow(
      /expected regular expressions, got "mid_block.\(attn"/,
    );
    const crossOnly = makePerturbedAttentionModel(original, { appliedLayers: ['attn1'] });
    expect(() => makePerturbedAttentionModel(crossOnly)).toThrow(
      /expected a model with self-attention .*, got only cross-attention: "down_blocks/,
    );
    expect(() => makePerturbedAttentionModel({ ...original, graph: null } as ModelProto)).toThrow(
      InvalidArgumentError,
    );
  });
});
