import { ModelLoadError } from '../errors';
import type { ClipTokenizerSettings } from './tokenizer-config';

/**
 * The subset of the Hugging Face `tokenizer.json` format this module writes and inspects.
 * The tokenizer library takes the whole object; only these keys matter here.
 */
export interface TokenizerDefinition {
  added_tokens: AddedTokenDefinition[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  model: { type?: string; vocab?: unknown; merges?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

export interface AddedTokenDefinition {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/**
 * CLIP's text cleanup as transformers' CLIPTokenizerFast defines it: NFC, runs of whitespace to one
 * space, lowercase. (The slow tokenizer also runs ftfy and HTML unescaping when installed; for
 * ordinary prompts both give the same ids.)
 */
const CLIP_NORMALIZER = {
  type: 'Sequence',
  normalizers: [
    { type: 'NFC' },
    { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
    { type: 'Lowercase' },
  ],
};

/**
 * CLIP's word split (contractions, letter runs, single digits, punctuation runs; whitespace
 * dropped), then GPT-2's byte-to-character mapping of each piece.
 */
const CLIP_PRE_TOKENIZER = {
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
};

/** The end-of-word marker CLIP appends to the last character of every word before merging. */
export const CLIP_END_OF_WORD = '</w>';

/** Parses vocab.json: token → id, ids unique non-negative integers. */
export function parseVocab(text: string, file: string): Record<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ModelLoadError(
      file,
      `expected a JSON object mapping tokens to ids, got a parse error: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelLoadError(file, 'expected a JSON object mapping tokens to ids');
  }
  const vocab = value as Record<string, unknown>;
  const seen = new Map<number, string>();
  for (const [token, id] of Object.entries(vocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new ModelLoadError(
        file,
        `expected a non-negative integer id for token ${JSON.stringify(token)}, got ${JSON.stringify(id)}`,
      );
    }
    const other = seen.get(id);
    if (other !== undefined) {
      throw new ModelLoadError(
        file,
        `expected unique ids, got id ${id} for both ${JSON.stringify(other)} and ${JSON.stringify(token)}`,
      );
    }
    seen.set(id, token);
  }
  if (seen.size === 0) throw new ModelLoadError(file, 'expected a non-empty vocabulary, got {}');
  return vocab as Record<string, number>;
}

/**
 * Parses merges.txt: an optional "#version" header, then one merge per line, "left right", in
 * rank order. Like the Rust tokenizers library, rejects merges whose parts or result are not in
 * the vocabulary, which catches a merges file paired with the wrong vocab.json.
 */
export function parseMerges(text: string, file: string, vocab: Readonly<Record<string, number>>): string[] {
  const merges: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' || (i === 0 && line.startsWith('#version'))) continue;
    const parts = line.split(' ');
    const lineNo = i + 1;
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new ModelLoadError(
        file,
        `expected "left right" (two tokens separated by one space) on line ${lineNo}, got ${JSON.stringify(line)}`,
      );
    }
    for (const token of [parts[0]!, parts[1]!, parts[0]! + parts[1]!]) {
      if (!Object.hasOwn(vocab, token)) {
        throw new ModelLoadError(
          file,
          `line ${lineNo} (${JSON.stringify(line)}) uses token ${JSON.stringify(token)}, which vocab.json does not contain; expected merges.txt and vocab.json of the same tokenizer`,
        );
      }
    }
    merges.push(line);
  }
  return merges;
}

function specialTokenIds(
  settings: ClipTokenizerSettings,
  lookup: (token: string) => number | undefined,
  file: string,
): Map<string, number> {
  const ids = new Map<string, number>();
  for (const [key, token] of [
    ['bos_token', settings.bosToken],
    ['eos_token', settings.eosToken],
    ['unk_token', settings.unkToken],
    ['pad_token', settings.padToken],
  ] as const) {
    const id = lookup(token);
    if (id === undefined) {
      throw new ModelLoadError(
        file,
        `${key} ${JSON.stringify(token)} is not in the vocabulary; expected every special token of the tokenizer config to have an id`,
      );
    }
    ids.set(token, id);
  }
  return ids;
}

function addedToken(content: string, id: number): AddedTokenDefinition {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/**
 * Builds the tokenizer.json equivalent of a vocab.json + merges.txt folder, as transformers'
 * slow-to-fast conversion does for CLIP. The special tokens of the config become added tokens, so
 * they are matched whole in the text, as transformers does, including a "!" pad token.
 */
export function clipDefinitionFromVocab(
  vocab: Record<string, number>,
  merges: string[],
  settings: ClipTokenizerSettings,
  vocabFile: string,
): TokenizerDefinition {
  const ids = specialTokenIds(
    settings,
    (token) => (Object.hasOwn(vocab, token) ? vocab[token] : undefined),
    vocabFile,
  );
  return {
    version: '1.0',
    added_tokens: [...ids].map(([content, id]) => addedToken(content, id)),
    normalizer: CLIP_NORMALIZER,
    pre_tokenizer: CLIP_PRE_TOKENIZER,
    post_processor: {
      type: 'RobertaProcessing',
      sep: [settings.eosToken, ids.get(settings.eosToken)],
      cls: [settings.bosToken, ids.get(settings.bosToken)],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: settings.unkToken,
      continuing_subword_prefix: '',
      end_of_word_suffix: CLIP_END_OF_WORD,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a parsed tokenizer.json is a CLIP-style BPE tokenizer and registers the config's special
 * tokens that it does not list as added tokens yet (transformers does the same on load).
 */
export function prepareTokenizerJson(
  json: Record<string, unknown>,
  settings: ClipTokenizerSettings,
  file: string,
) {
  const model = json.model;
  if (!isRecord(model)) throw new ModelLoadError(file, 'expected a "model" object, got none');
  if (model.type !== undefined && model.type !== 'BPE') {
    throw new ModelLoadError(
      file,
      `expected a BPE model (CLIP), got model type ${JSON.stringify(model.type)}`,
    );
  }
  if (!isRecord(model.vocab) || !Array.isArray(model.merges)) {
    throw new ModelLoadError(
      file,
      'expected model.vocab (an object) and model.merges (an array) of a BPE model',
    );
  }
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as AddedTokenDefinition[]) : [];
  for (const token of added) {
    if (!isRecord(token) || typeof token.content !== 'string' || typeof token.id !== 'number') {
      throw new ModelLoadError(
        file,
        `expected added_tokens entries with "id" and "content", got ${JSON.stringify(token)}`,
      );
    }
  }
  const vocab = model.vocab;
  const lookup = (token: string): number | undefined => {
    const listed = added.find((t) => t.content === token);
    if (listed) return listed.id;
    const id = Object.hasOwn(vocab, token) ? vocab[token] : undefined;
    return typeof id === 'number' ? id : undefined;
  };
  const ids = specialTokenIds(settings, lookup, file);
  const missing = [...ids].filter(([content]) => !added.some((t) => t.content === content));
  const definition: TokenizerDefinition = {
    ...json,
    added_tokens: [...added, ...missing.map(([content, id]) => addedToken(content, id))],
    normalizer: json.normalizer ?? null,
    pre_tokenizer: json.pre_tokenizer ?? null,
    post_processor: json.post_processor ?? null,
    decoder: json.decoder ?? null,
    model,
  };
  return definition;
}
