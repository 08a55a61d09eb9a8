import { describe, expect, it } from 'vitest';
import { decodeModel, type ModelProto } from '../proto';
import {
  einsumKeepsValueLayout,
  findAttentionLayers,
  pathFromNodeName,
  pathFromParameterNames,
} from './attention-layers';
import { loadPagFixture } from './test-support/pag-fixtures';

describe('pathFromNodeName', () => {
  it('reads torch.onnx.export scopes and dotted builder names', () => {
    expect(pathFromNodeName('/mid_block/attentions.0/transformer_blocks.0/attn1/Softmax')).toBe(
      'mid_block.attentions.0.transformer_blocks.0.attn1',
    );
    expect(pathFromNodeName('blocks.1.attn.attention_probs')).toBe('blocks.1.attn');
    expect(pathFromNodeName('/Softmax')).toBeUndefined();
    expect(pathFromNodeName('Softmax_12')).toBeUndefined();
    expect(pathFromNodeName('')).toBeUndefined();
  });
});

describe('pathFromParameterNames', () => {
  it('takes the common module of several projections, or the parent of a single one', () => {
    expect(pathFromParameterNames(['blocks.1.attn.qkv.bias', 'blocks.1.attn.proj.weight'])).toBe(
      'blocks.1.attn',
    );
    expect(
      pathFromParameterNames([
        'onnx::MatMul_12',
        'mid_block.attentions.0.transformer_blocks.0.attn1.to_out.0.bias',
      ]),
    ).toBe('mid_block.attentions.0.transformer_blocks.0.attn1');
    expect(pathFromParameterNames(['onnx::MatMul_12'])).toBeUndefined();
    expect(pathFromParameterNames([])).toBeUndefined();
  });
});

describe('einsumKeepsValueLayout', () => {
  it('accepts P·V products whose result has the values’ layout', () => {
    expect(einsumKeepsValueLayout('b i j, b j d -> b i d', 0)).toBe(true);
    expect(einsumKeepsValueLayout('bhqk,bhkd->bhqd', 0)).toBe(true);
    expect(einsumKeepsValueLayout('...ij,...jd->...id', 0)).toBe(true);
    expect(einsumKeepsValueLayout('bjd,bij->bid', 1)).toBe(true);
  });

  it('rejects products where V could not stand in for the result', () => {
    expect(einsumKeepsValueLayout('bij,bjd->bdi', 0)).toBe(false); // transposed result
    expect(einsumKeepsValueLayout('bji,bjd->bid', 0)).toBe(false); // P summed over its first axis
    expect(einsumKeepsValueLayout('bij,bjd', 0)).toBe(false); // implicit output
  });
});

describe('findAttentionLayers', () => {
  const strip = (model: ModelProto, keep: (name: string) => string) => {
    for (const n of model.graph!.node!) n.name = keep(n.name ?? '');
    return model;
  };

  it('names layers from parameters when nodes are unnamed', () => {
    const model = strip(decodeModel(loadPagFixture('pag-dit').bytes), () => '');
    expect(findAttentionLayers(model).map((l) => l.path)).toEqual(['blocks.0.attn', 'blocks.1.attn']);
  });

  it('prefers parameter names where node scopes collide, and keeps every path unique', () => {
    // A parent module whose forward was bypassed drops out of torch's scopes: both blocks then
    // look like '/attentions.0/…'.
    const model = strip(decodeModel(loadPagFixture('pag-unet').bytes), (name) =>
      name.replace(/^\/(down_blocks\.0|mid_block)\//, '/'),
    );
    expect(findAttentionLayers(model).map((l) => l.path)).toEqual([
      'down_blocks.0.attentions.0.transformer_blocks.0.attn1',
      'down_blocks.0.attentions.0.transformer_blocks.0.attn2',
      'mid_block.attentions.0.transformer_blocks.0.attn1',
      'mid_block.attentions.0.transformer_blocks.0.attn2',
    ]);
  });

  it('reports the tokens each projection reads', () => {
    const [self, cross] = findAttentionLayers(loadPagFixture('pag-unet').bytes);
    expect(self!.sources.key).toEqual(self!.sources.query);
    expect(cross!.sources.key).toEqual(['encoder_hidden_states']);
    expect(cross!.sources.value).toEqual(['encoder_hidden_states']);
    expect(cross!.weighting).toBe('/down_blocks.0/attentions.0/transformer_blocks.0/attn2/MatMul_1');
  });
});
