import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidConfigError, ModelLoadError } from '../errors';
import { CLIPTokenizer, loadTokenizer } from './clip-tokenizer';
import { clipByteAlphabet } from './clip-vocabulary';

/*
 * A small tokenizer folder in CLIP's format, written by hand: the 512 byte-level base tokens in
 * CLIP's order (so base ids equal the real vocabulary's, e.g. "a</w>" = 320, "!</w>" = 256), a few
 * merges, then BOS and EOS.
 */
const MERGES = [
  'r e',
  're d</w>',
  'c a',
  'ca t</w>',
  'b l',
  'bl u',
  'blu e</w>',
  'o n</w>',
  'l e',
  'le f',
  'lef t</w>',
  'g r',
  'gr e',
  'gre y</w>',
];
const BASE = clipByteAlphabet();
const VOCAB: Record<string, number> = {};
for (const token of [...BASE, ...BASE.map((c) => `${c}</w>`), ...MERGES.map((m) => m.replace(' ', ''))]) {
  VOCAB[token] = Object.keys(VOCAB).length;
}
const BOS = Object.keys(VOCAB).length;
const EOS = BOS + 1;
VOCAB['<|startoftext|>'] = BOS;
VOCAB['<|endoftext|>'] = EOS;
const id = (token: string): number => {
  const value = VOCAB[token];
  if (value === undefined) throw new Error(`fixture has no token ${token}`);
  return value;
};

function addedTokenJson(content: string) {
  return {
    __type: 'AddedToken',
    content,
    lstrip: false,
    normalized: true,
    rstrip: false,
    single_word: false,
  };
}

/** vocab.json + merges.txt + configs, as diffusers folders ship them; `pad` is the pad token text. */
function vocabFolder(pad: string, maxLength = 77): Record<string, string> {
  return {
    'vocab.json': JSON.stringify(VOCAB),
    'merges.txt': `#version: 0.2\n${MERGES.join('\n')}\n`,
    'tokenizer_config.json': JSON.stringify({
      add_prefix_space: false,
      bos_token: addedTokenJson('<|startoftext|>'),
      do_lower_case: true,
      eos_token: addedTokenJson('<|endoftext|>'),
      errors: 'replace',
      model_max_length: maxLength,
      pad_token: pad,
      tokenizer_class: 'CLIPTokenizer',
      unk_token: addedTokenJson('<|endoftext|>'),
    }),
    'special_tokens_map.json': JSON.stringify({
      bos_token: { content: '<|startoftext|>' },
      eos_token: { content: '<|endoftext|>' },
      pad_token: pad,
      unk_token: { content: '<|endoftext|>' },
    }),
  };
}

/** The same tokenizer as a tokenizer.json, in the shape transformers' CLIPTokenizerFast saves. */
function tokenizerJsonFolder(pad: string): Record<string, string> {
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: BOS,
        content: '<|startoftext|>',
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
      {
        id: EOS,
        content: '<|endoftext|>',
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
    ],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['<|endoftext|>', EOS],
      cls: ['<|startoftext|>', BOS],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<|endoftext|>',
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: VOCAB,
      merges: MERGES.map((m) => m.split(' ')),
    },
  };
  const { 'vocab.json': _v, 'merges.txt': _m, ...configs } = vocabFolder(pad);
  return { ...configs, 'tokenizer.json': JSON.stringify(tokenizerJson) };
}

const PROMPTS = [
  'a red cat',
  '  A   RED\tCat on the LEFT ',
  'blue, grey; red!',
  "it's a cat's café 42",
  'reds catred blueish',
  '',
];

describe('CLIPTokenizer from vocab.json + merges.txt', () => {
  let clipL: CLIPTokenizer;
  let openClip: CLIPTokenizer;
  beforeAll(async () => {
    clipL = await CLIPTokenizer.fromPretrained(vocabFolder('<|endoftext|>'));
    openClip = await CLIPTokenizer.fromPretrained(vocabFolder('!'));
  });

  it('reads special tokens, pad token and model_max_length from the config files', () => {
    expect(clipL.layout).toBe('vocab.json+merges.txt');
    expect([clipL.bosTokenId, clipL.eosTokenId, clipL.padTokenId]).toEqual([BOS, EOS, EOS]);
    expect([openClip.padToken, openClip.padTokenId]).toEqual(['!', 0]);
    expect(clipL.modelMaxLength).toBe(77);
    expect(clipL.vocabSize).toBe(512 + MERGES.length + 2);
  });

  it('has CLIP base-token ids: "a</w>" 320, "!</w>" 256', () => {
    expect(clipL.tokenize('a')).toEqual(['a</w>']);
    expect(clipL.encode('a', { padding: false }).inputIds).toEqual([[BOS, 320, EOS]]);
    expect(clipL.encode('!', { padding: false }).inputIds).toEqual([[BOS, 256, EOS]]);
  });

  it('merges words whole when the merges cover them, and splits the rest into pieces', () => {
    expect(clipL.tokenize('a red cat on the left')).toEqual([
      'a</w>',
      'red</w>',
      'cat</w>',
      'on</w>',
      't',
      'h',
      'e</w>',
      'left</w>',
    ]);
    // "reds": "re" merges, but no merge makes "red" without the end-of-word marker.
    expect(clipL.tokenize('reds')).toEqual(['re', 'd', 's</w>']);
    expect(clipL.encode('red cat blue', { padding: false }).inputIds[0]).toEqual([
      BOS,
      id('red</w>'),
      id('cat</w>'),
      id('blue</w>'),
      EOS,
    ]);
    // "r e" outranks "g r", so "grey" never reaches the "g r" → "gr e" → "gre y</w>" chain.
    expect(clipL.tokenize('grey')).toEqual(['g', 're', 'y</w>']);
    expect(clipL.encode('grey', { padding: false }).inputIds[0]).toEqual([BOS, 70, 512, 344, EOS]);
  });

  it('applies merges in rank order', async () => {
    // With "e d</w>" ranked first, "red" becomes r + ed</w> and "re d</w>" can no longer apply.
    const reordered = ['e d</w>', ...MERGES];
    const files = vocabFolder('<|endoftext|>');
    files['vocab.json'] = JSON.stringify({ ...VOCAB, 'ed</w>': EOS + 1 });
    files['merges.txt'] = reordered.join('\n');
    const tokenizer = await CLIPTokenizer.fromPretrained(files);
    expect(tokenizer.tokenize('red')).toEqual(['r', 'ed</w>']);
  });

  it('normalises case and whitespace and splits punctuation, digits and contractions like CLIP', () => {
    expect(clipL.tokenize('  A   RED\tCat ')).toEqual(clipL.tokenize('a red cat'));
    expect(clipL.tokenize("red, 42 it's")).toEqual([
      'red</w>',
      ',</w>',
      '4</w>',
      '2</w>',
      'i',
      't</w>',
      "'",
      's</w>',
    ]);
    // Non-ASCII text goes through the byte alphabet: "é" is bytes C3 A9.
    expect(clipL.encode('é', { padding: false }).inputIds[0]).toEqual([BOS, 127, 256 + 102, EOS]);
  });

  it('pads to 77 with EOS for CLIP-L folders, with a 1/0 attention mask', () => {
    const out = clipL.encode(['a red cat', 'blue']);
    expect(out.inputIds.map((row) => row.length)).toEqual([77, 77]);
    expect(out.inputIds[0]!.slice(0, 5)).toEqual([BOS, 320, id('red</w>'), id('cat</w>'), EOS]);
    expect(out.inputIds[0]!.slice(5).every((v) => v === EOS)).toBe(true);
    expect(out.attentionMask[0]!.slice(0, 6)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(out.attentionMask[1]!.reduce((a, b) => a + b)).toBe(3);
    expect(out.overflowingTokens).toEqual([[], []]);
  });

  it('pads with "!" (id 0) for OpenCLIP folders and maps "!" in prompts to it, as transformers does', () => {
    const out = openClip.encode(['a red cat', 'red!']);
    expect(out.inputIds[0]!.slice(0, 6)).toEqual([BOS, 320, id('red</w>'), id('cat</w>'), EOS, 0]);
    expect(out.inputIds[0]!.slice(5).every((v) => v === 0)).toBe(true);
    // The pad token is a special token, matched whole: "!" → 0 rather than "!</w>" (256).
    expect(out.inputIds[1]!.slice(0, 4)).toEqual([BOS, id('red</w>'), 0, EOS]);
    expect(openClip.encode('! !!', { padding: false }).inputIds[0]).toEqual([BOS, 0, 0, 0, EOS]);
    expect(clipL.encode('red!', { padding: false }).inputIds[0]).toEqual([BOS, id('red</w>'), 256, EOS]);
  });

  it('truncates to maxLength keeping BOS and EOS, and reports what was cut', () => {
    const words = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 'red' : 'cat'));
    const out = clipL.encode(words.join(' '));
    const row = out.inputIds[0]!;
    expect(row).toHaveLength(77);
    expect(row[0]).toBe(BOS);
    expect(row[76]).toBe(EOS);
    expect(row[75]).toBe(id('red</w>')); // ids 1…75 are words 0…74; word 74 is "red"
    expect(out.attentionMask[0]!.every((v) => v === 1)).toBe(true);
    expect(out.overflowingTokens[0]).toHaveLength(25);
    expect(clipL.encode(words.join(' '), { maxLength: 10 }).inputIds[0]).toHaveLength(10);
  });

  it('keeps long rows whole without truncation, and pads to the longest row on request', () => {
    const long = Array.from({ length: 80 }, () => 'red').join(' ');
    expect(clipL.encode(long, { truncation: false }).inputIds[0]).toHaveLength(82);
    const longest = clipL.encode(['red', 'red cat blue'], { padding: 'longest' });
    expect(longest.inputIds).toEqual([
      [BOS, id('red</w>'), EOS, EOS, EOS],
      [BOS, id('red</w>'), id('cat</w>'), id('blue</w>'), EOS],
    ]);
    expect(longest.attentionMask[0]).toEqual([1, 1, 1, 0, 0]);
    const bare = clipL.encode(['red'], { padding: false, addSpecialTokens: false });
    expect(bare.inputIds).toEqual([[id('red</w>')]]);
  });

  it('uses the folder model_max_length as default length', async () => {
    const short = await CLIPTokenizer.fromPretrained(vocabFolder('<|endoftext|>', 16));
    expect(short.encode('red').inputIds[0]).toHaveLength(16);
  });

  it('decodes ids back to text, dropping special tokens', () => {
    const out = openClip.encode('A red cat on the left');
    expect(openClip.decode(out.inputIds[0]!)).toBe('a red cat on the left');
    expect(clipL.decode([BOS, id('red</w>'), EOS], { skipSpecialTokens: false })).toBe(
      '<|startoftext|>red <|endoftext|>',
    );
  });

  it('rejects invalid encode options', () => {
    expect(() => clipL.encode('red', { maxLength: 2 })).toThrow(InvalidArgumentError);
    expect(() => clipL.encode('red', { maxLength: 7.5 })).toThrow(/positive integer/);
    expect(() => clipL.encode('red', { padding: 'longer' as never })).toThrow(/padding must be/);
  });
});

describe('CLIPTokenizer layouts and sources', () => {
  it('gives identical ids from tokenizer.json and from vocab.json + merges.txt', async () => {
    for (const pad of ['<|endoftext|>', '!']) {
      const fromJson = await CLIPTokenizer.fromPretrained(tokenizerJsonFolder(pad));
      const fromVocab = await CLIPTokenizer.fromPretrained(vocabFolder(pad));
      expect(fromJson.layout).toBe('tokenizer.json');
      expect(fromJson.padTokenId).toBe(fromVocab.padTokenId);
      expect(fromJson.encode(PROMPTS)).toEqual(fromVocab.encode(PROMPTS));
    }
  });

  it('lets special_tokens_map.json override tokenizer_config.json', async () => {
    const files = vocabFolder('<|endoftext|>');
    files['special_tokens_map.json'] = JSON.stringify({ pad_token: '!' });
    expect((await CLIPTokenizer.fromPretrained(files)).padTokenId).toBe(0);
  });

  it('falls back to CLIP defaults without config files', async () => {
    const { 'vocab.json': vocab, 'merges.txt': merges } = vocabFolder('!');
    const tokenizer = await CLIPTokenizer.fromPretrained({ 'vocab.json': vocab!, 'merges.txt': merges! });
    expect([tokenizer.padTokenId, tokenizer.modelMaxLength]).toEqual([EOS, 77]);
  });

  describe('on disk', () => {
    let root: string;
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'clip-tokenizer-'));
      for (const [sub, files] of [
        ['tokenizer', vocabFolder('<|endoftext|>')],
        ['tokenizer_2', vocabFolder('!')],
      ] as const) {
        await mkdir(join(root, sub));
        for (const [name, text] of Object.entries(files)) await writeFile(join(root, sub, name), text);
      }
    });
    afterAll(() => rm(root, { recursive: true, force: true }));

    it('loads a pipeline folder by path and subfolder, and by file URL', async () => {
      const first = await loadTokenizer(root, { subfolder: 'tokenizer' });
      const second = await CLIPTokenizer.fromPretrained(join(root, 'tokenizer_2'));
      const byUrl = await CLIPTokenizer.fromPretrained(pathToFileURL(root), { subfolder: 'tokenizer_2' });
      expect([first.padTokenId, second.padTokenId, byUrl.padTokenId]).toEqual([EOS, 0, 0]);
      expect(second.encode(PROMPTS)).toEqual(byUrl.encode(PROMPTS));
    });

    it('names the folder and the expected layout when files are missing', async () => {
      const attempt = CLIPTokenizer.fromPretrained(join(root, 'nonexistent'));
      await expect(attempt).rejects.toThrow(ModelLoadError);
      await expect(attempt).rejects.toThrow(
        /nonexistent.*missing vocab\.json and merges\.txt.*expected tokenizer\.json/,
      );
    });
  });

  it('loads through a reader function', async () => {
    const files = vocabFolder('!');
    const requested: string[] = [];
    const tokenizer = await CLIPTokenizer.fromPretrained(
      async (name) => {
        requested.push(name);
        return files[name.replace(/^tokenizer_2\//, '')];
      },
      { subfolder: 'tokenizer_2' },
    );
    expect(tokenizer.padTokenId).toBe(0);
    expect(requested).toContain('tokenizer_2/vocab.json');
  });
});

describe('CLIPTokenizer load errors', () => {
  const load = (files: Record<string, string>) => CLIPTokenizer.fromPretrained(files);

  it('names merges.txt when only it is missing', async () => {
    const { 'merges.txt': _, ...files } = vocabFolder('!');
    await expect(load(files)).rejects.toThrow(/"merges\.txt".*missing merges\.txt/);
  });

  it('reports corrupt JSON with the file name', async () => {
    await expect(load({ ...vocabFolder('!'), 'vocab.json': '{"a": 1,' })).rejects.toThrow(
      /cannot load model "vocab\.json": expected a JSON object mapping tokens to ids, got a parse error/,
    );
    await expect(load({ ...vocabFolder('!'), 'tokenizer_config.json': '[1]' })).rejects.toThrow(
      /"tokenizer_config\.json": expected a JSON object, got an array/,
    );
    await expect(load({ ...tokenizerJsonFolder('!'), 'tokenizer.json': 'not json' })).rejects.toThrow(
      /"tokenizer\.json": expected valid JSON/,
    );
  });

  it('rejects vocabularies with bad or duplicate ids', async () => {
    await expect(load({ ...vocabFolder('!'), 'vocab.json': '{"a": -1}' })).rejects.toThrow(
      /non-negative integer id for token "a", got -1/,
    );
    await expect(load({ ...vocabFolder('!'), 'vocab.json': '{"a": 1, "b": 1}' })).rejects.toThrow(
      /unique ids, got id 1 for both "a" and "b"/,
    );
  });

  it('rejects malformed merges and merges of another vocabulary', async () => {
    await expect(load({ ...vocabFolder('!'), 'merges.txt': '#version: 0.2\nr e\nred\n' })).rejects.toThrow(
      /"merges\.txt".*line 3, got "red"/,
    );
    await expect(load({ ...vocabFolder('!'), 'merges.txt': 'r e\nx yz</w>\n' })).rejects.toThrow(
      /line 2 .* token "yz<\/w>", which vocab\.json does not contain/,
    );
  });

  it('rejects a pad token missing from the vocabulary', async () => {
    const files = vocabFolder('<pad>');
    await expect(load(files)).rejects.toThrow(/pad_token "<pad>" is not in the vocabulary/);
  });

  it('rejects non-BPE tokenizer.json models and bad config values', async () => {
    const files = tokenizerJsonFolder('!');
    const json = JSON.parse(files['tokenizer.json']!);
    json.model.type = 'WordPiece';
    await expect(load({ ...files, 'tokenizer.json': JSON.stringify(json) })).rejects.toThrow(
      /expected a BPE model \(CLIP\), got model type "WordPiece"/,
    );
    const config = { ...vocabFolder('!'), 'tokenizer_config.json': '{"model_max_length": "77"}' };
    await expect(load(config)).rejects.toThrow(InvalidConfigError);
  });

  it('treats transformers\' "no limit" model_max_length as unset', async () => {
    const files = { ...vocabFolder('!'), 'tokenizer_config.json': '{"model_max_length": 1e30}' };
    expect((await load(files)).modelMaxLength).toBe(77);
  });
});
