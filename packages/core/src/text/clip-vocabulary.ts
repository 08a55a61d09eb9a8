/**
 * Small CLIP-format vocabularies: the 512 byte-level base tokens every CLIP vocab starts with,
 * BPE merges learned from a word list, and CLIP's special tokens, written as a Hugging Face
 * tokenizer folder. For models trained from scratch on a narrow caption language (tests, the tiny
 * zoo); real SD checkpoints ship their own 49408-token vocabulary.
 */
import { InvalidArgumentError } from '../errors';
import { CLIP_END_OF_WORD } from './clip-tokenizer-definition';
import { CLIP_DEFAULTS } from './tokenizer-config';

// Bytes that GPT-2's byte-level alphabet keeps as their own Latin-1 character.
function isPrintableByte(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

/** GPT-2's byte → character table, indexed by byte: printable bytes map to themselves, the rest to U+0100 onwards. */
function byteCharTable(): string[] {
  const table: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    table.push(String.fromCharCode(isPrintableByte(b) ? b : 256 + shifted++));
  }
  return table;
}

/** The 256 byte characters in CLIP's vocabulary order: printable bytes first, so id 0 is "!". */
export function clipByteAlphabet(): string[] {
  const table = byteCharTable();
  const order = [...table.keys()];
  return [...order.filter(isPrintableByte), ...order.filter((b) => !isPrintableByte(b))].map(
    (b) => table[b]!,
  );
}

// The same word split as the tokenizer's pre-tokenizer, so learned merges match what it produces.
const CLIP_WORD = /'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;

/** CLIP's words of a text, each as byte-level characters with the end-of-word marker on the last. */
function clipWords(text: string): string[][] {
  const table = byteCharTable();
  const encoder = new TextEncoder();
  const normalized = text.normalize('NFC').replace(/\s+/g, ' ').toLowerCase();
  return (normalized.match(CLIP_WORD) ?? []).map((word) => {
    const symbols = Array.from(encoder.encode(word), (byte) => table[byte]!);
    symbols[symbols.length - 1] += CLIP_END_OF_WORD;
    return symbols;
  });
}

export interface ClipVocabulary {
  /** token → id: 256 byte characters, the same with "</w>", merge results, BOS, EOS. */
  readonly vocab: Record<string, number>;
  /** "left right" merges in rank order. */
  readonly merges: string[];
}

export interface BuildClipVocabularyOptions {
  /** Stop after this many merges (default: until every word of the corpus is one token). */
  maxMerges?: number;
}

interface WordCount {
  symbols: string[];
  count: number;
}

function mostFrequentPair(words: readonly WordCount[]): [string, string] | undefined {
  const counts = new Map<string, number>();
  for (const { symbols, count } of words) {
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = `${symbols[i]} ${symbols[i + 1]}`;
      counts.set(key, (counts.get(key) ?? 0) + count);
    }
  }
  let best: string | undefined;
  let bestCount = 0;
  for (const [key, count] of counts) {
    // Ties go to the lexicographically smallest pair so the result does not depend on input order.
    if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
      best = key;
      bestCount = count;
    }
  }
  if (best === undefined) return undefined;
  const space = best.indexOf(' ');
  return [best.slice(0, space), best.slice(space + 1)];
}

function applyMerge(symbols: string[], left: string, right: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
      out.push(left + right);
      i++;
    } else {
      out.push(symbols[i]!);
    }
  }
  return out;
}

/**
 * Learns BPE merges from a corpus (captions or words; each occurrence counts), CLIP style: words
 * are lowercased byte-level character runs ending in "</w>", and the most frequent adjacent pair
 * is merged until none is left or `maxMerges` is reached. Vocabulary ids follow CLIP's layout.
 */
export function buildClipVocabulary(
  corpus: readonly string[],
  options: BuildClipVocabularyOptions = {},
): ClipVocabulary {
  const maxMerges = options.maxMerges ?? Number.POSITIVE_INFINITY;
  if (!(maxMerges >= 0)) throw new InvalidArgumentError(`maxMerges must be ≥ 0, got ${maxMerges}`);
  const counts = new Map<string, WordCount>();
  for (const text of corpus) {
    for (const symbols of clipWords(text)) {
      const key = symbols.join(' ');
      const entry = counts.get(key);
      if (entry) entry.count++;
      else counts.set(key, { symbols, count: 1 });
    }
  }
  const alphabet = clipByteAlphabet();
  const tokens = [...alphabet, ...alphabet.map((c) => c + CLIP_END_OF_WORD)];
  const vocab: Record<string, number> = Object.fromEntries(tokens.map((token, id) => [token, id]));
  let nextId = tokens.length;
  const merges: string[] = [];
  let words = [...counts.values()];
  while (merges.length < maxMerges) {
    const pair = mostFrequentPair(words);
    if (pair === undefined) break;
    const [left, right] = pair;
    merges.push(`${left} ${right}`);
    if (!Object.hasOwn(vocab, left + right)) vocab[left + right] = nextId++;
    words = words.map((word) => ({ symbols: applyMerge(word.symbols, left, right), count: word.count }));
  }
  vocab[CLIP_DEFAULTS.bosToken] = nextId++;
  vocab[CLIP_DEFAULTS.eosToken] = nextId++;
  return { vocab, merges };
}

/** Which pad token a folder declares: EOS (OpenAI CLIP-L) or "!" with id 0 (OpenCLIP). */
export type ClipPadStyle = 'eos' | 'exclamation';

export interface ClipTokenizerFilesOptions {
  padStyle: ClipPadStyle;
  modelMaxLength?: number;
}

function addedTokenJson(content: string) {
  return { content, lstrip: false, normalized: true, rstrip: false, single_word: false };
}

/**
 * The files of a tokenizer folder for a vocabulary, in the layout diffusers pipelines ship
 * (vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json; no tokenizer.json).
 * The result can be written to disk or passed to `CLIPTokenizer.fromPretrained` as is.
 */
export function clipTokenizerFiles(
  vocabulary: ClipVocabulary,
  options: ClipTokenizerFilesOptions,
): Record<string, string> {
  const { bosToken, eosToken, unkToken } = CLIP_DEFAULTS;
  const padToken = options.padStyle === 'eos' ? eosToken : '!';
  const special = {
    bos_token: addedTokenJson(bosToken),
    eos_token: addedTokenJson(eosToken),
    pad_token: padToken,
    unk_token: addedTokenJson(unkToken),
  };
  const config = {
    add_prefix_space: false,
    bos_token: { __type: 'AddedToken', ...special.bos_token },
    do_lower_case: true,
    eos_token: { __type: 'AddedToken', ...special.eos_token },
    errors: 'replace',
    model_max_length: options.modelMaxLength ?? CLIP_DEFAULTS.modelMaxLength,
    pad_token: padToken,
    tokenizer_class: 'CLIPTokenizer',
    unk_token: { __type: 'AddedToken', ...special.unk_token },
  };
  return {
    'vocab.json': `${JSON.stringify(vocabulary.vocab)}\n`,
    'merges.txt': `#version: 0.2\n${vocabulary.merges.map((m) => `${m}\n`).join('')}`,
    'tokenizer_config.json': `${JSON.stringify(config, null, 2)}\n`,
    'special_tokens_map.json': `${JSON.stringify(special, null, 2)}\n`,
  };
}
