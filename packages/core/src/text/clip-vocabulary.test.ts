import { describe, expect, it } from 'vitest';
import { CLIPTokenizer } from './clip-tokenizer';
import { buildClipVocabulary, clipByteAlphabet, clipTokenizerFiles } from './clip-vocabulary';

const CAPTIONS = [
  'a small red circle on the left, grey background',
  'a large blue square centred on a dark background',
  'two green triangles on the right',
  'a light red ring and a blue cross',
];

describe('clipByteAlphabet', () => {
  it("is GPT-2's 256-character byte alphabet in CLIP's order", () => {
    const alphabet = clipByteAlphabet();
    expect(alphabet).toHaveLength(256);
    expect(new Set(alphabet).size).toBe(256);
    expect(alphabet[0]).toBe('!');
    expect(alphabet.indexOf('a')).toBe(64); // so "a</w>" is 320, as in CLIP's vocabulary
    expect(alphabet[188]).toBe('\u0100'); // byte 0, the first non-printable byte
    expect(alphabet[255]).toBe('\u0143'); // byte 0xAD, the last one
  });
});

describe('buildClipVocabulary', () => {
  it('lays ids out like CLIP: bytes, bytes + </w>, merges, BOS, EOS', () => {
    const { vocab, merges } = buildClipVocabulary(CAPTIONS);
    const size = Object.keys(vocab).length;
    expect(vocab['!']).toBe(0);
    expect(vocab['!</w>']).toBe(256);
    expect(vocab['<|startoftext|>']).toBe(size - 2);
    expect(vocab['<|endoftext|>']).toBe(size - 1);
    expect(size).toBe(512 + merges.length + 2);
    expect(merges.map((m) => vocab[m.replace(' ', '')])).toEqual(merges.map((_, rank) => 512 + rank));
  });

  it('learns merges until every corpus word is one token', async () => {
    const vocabulary = buildClipVocabulary(CAPTIONS);
    const tokenizer = await CLIPTokenizer.fromPretrained(clipTokenizerFiles(vocabulary, { padStyle: 'eos' }));
    for (const caption of CAPTIONS) {
      const words = caption.match(/[a-z]+|,/g)!;
      expect(tokenizer.tokenize(caption)).toEqual(words.map((w) => `${w}</w>`));
    }
    // Unseen words still tokenize, into learned pieces or bytes.
    expect(tokenizer.tokenize('redder').join('')).toBe('redder</w>');
  });

  it('stops at maxMerges and merges the most frequent pair first', () => {
    // "r e" occurs 4 times, "e d</w>" 3 times; after "r e", "re d</w>" (3) beats "re a" (1).
    const { merges } = buildClipVocabulary(['red red red ready'], { maxMerges: 2 });
    expect(merges).toEqual(['r e', 're d</w>']);
    // A tie ("r e" and "e d</w>", 3 each) goes to the lexicographically smaller pair.
    expect(buildClipVocabulary(['red red red blue'], { maxMerges: 1 }).merges).toEqual(['e d</w>']);
  });

  it('does not depend on corpus order', () => {
    expect(buildClipVocabulary([...CAPTIONS].reverse())).toEqual(buildClipVocabulary(CAPTIONS));
  });
});

describe('clipTokenizerFiles', () => {
  it('writes a diffusers-style folder for both pad conventions', async () => {
    const vocabulary = buildClipVocabulary(CAPTIONS);
    const eosFiles = clipTokenizerFiles(vocabulary, { padStyle: 'eos' });
    expect(Object.keys(eosFiles).sort()).toEqual([
      'merges.txt',
      'special_tokens_map.json',
      'tokenizer_config.json',
      'vocab.json',
    ]);
    expect(eosFiles['merges.txt']!.split('\n')[0]).toBe('#version: 0.2');
    const clipL = await CLIPTokenizer.fromPretrained(eosFiles);
    const openClip = await CLIPTokenizer.fromPretrained(
      clipTokenizerFiles(vocabulary, { padStyle: 'exclamation' }),
    );
    const eos = vocabulary.vocab['<|endoftext|>'];
    expect(clipL.encode('a red ring').inputIds[0]!.at(-1)).toBe(eos);
    expect(openClip.encode('a red ring').inputIds[0]!.at(-1)).toBe(0);
    expect(openClip.encode('a red ring').inputIds[0]!.slice(0, 5)).toEqual(
      clipL.encode('a red ring').inputIds[0]!.slice(0, 5),
    );
  });
});
