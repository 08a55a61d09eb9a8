import { InvalidArgumentError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { compileLayerPatterns, matchesLayerPattern } from './layer-patterns';

const matches = (pattern: string, path: string) =>
  matchesLayerPattern(compileLayerPatterns([pattern], 'test')[0]!, path);

describe('matchesLayerPattern', () => {
  it('searches the pattern anywhere in the module path, as diffusers does', () => {
    expect(matches('mid', 'mid_block.attentions.0.transformer_blocks.0.attn1')).toBe(true);
    expect(matches('down_blocks.1', 'down_blocks.1.attentions.0.transformer_blocks.1.attn1')).toBe(true);
    expect(matches('blocks.1', 'transformer_blocks.1.attn1')).toBe(true);
    expect(matches('up', 'mid_block.attentions.0.transformer_blocks.0.attn1')).toBe(false);
    expect(matches('blocks\\.(8|9)\\.', 'blocks.9.attn')).toBe(true);
  });

  it('does not let a match end inside a number', () => {
    expect(matches('blocks.1', 'blocks.10.attn')).toBe(false);
    expect(matches('blocks.1', 'blocks.12.attn')).toBe(false);
    expect(matches('blocks.1', 'blocks.10.sub_blocks.1.attn')).toBe(true);
    expect(matches('attn', 'blocks.10.attn')).toBe(true);
    expect(matches('blocks.1\\d', 'blocks.12.attn')).toBe(true);
  });
});

describe('compileLayerPatterns', () => {
  it('rejects empty lists, empty strings and invalid regular expressions', () => {
    expect(() => compileLayerPatterns([], 'pag')).toThrow(/pag: expected at least one layer pattern/);
    expect(() => compileLayerPatterns([''], 'pag')).toThrow(/expected non-empty pattern strings, got ""/);
    expect(() => compileLayerPatterns(['blocks.(1'], 'pag')).toThrow(InvalidArgumentError);
  });
});
