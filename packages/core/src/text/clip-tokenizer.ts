/**
 * CLIP text tokenization for the Stable Diffusion families, on @huggingface/tokenizers.
 *
 * Why that library: it is Hugging Face's maintained pure-TS tokenizer (zero dependencies, ~8 kB
 * gzipped, Node and browsers), and the one @huggingface/transformers itself uses underneath. The
 * transformers package would add onnxruntime and sharp to every install of core and, like the
 * bare library, only reads tokenizer.json; the vocab.json + merges.txt layout of most SD 2.x/SDXL
 * folders needs the conversion in clip-tokenizer-definition.ts either way.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { InvalidArgumentError, ModelLoadError } from '../errors';
import {
  clipDefinitionFromVocab,
  parseMerges,
  parseVocab,
  prepareTokenizerJson,
  type TokenizerDefinition,
} from './clip-tokenizer-definition';
import {
  type ClipTokenizerSettings,
  parseJsonObject,
  resolveClipSettings,
  type TokenizerConfigFile,
} from './tokenizer-config';
import { openFolder, type Folder, type FolderSource } from '../io/folder';

/** Which files a tokenizer was built from. */
export type TokenizerLayout = 'tokenizer.json' | 'vocab.json+merges.txt';

export interface TokenizerLoadOptions {
  /** A folder inside `source`, e.g. "tokenizer" or "tokenizer_2" for a pipeline root. */
  subfolder?: string;
}

/** diffusers' `padding` values: pad every row to maxLength, to the longest row, or not at all. */
export type PaddingStrategy = 'max_length' | 'longest' | false;

export interface TokenizerEncodeOptions {
  /** Length limit for truncation and 'max_length' padding; default: the folder's model_max_length (77). */
  maxLength?: number;
  /** Default 'max_length', as the diffusers pipelines call it. */
  padding?: PaddingStrategy;
  /** Cut rows longer than maxLength, keeping BOS and EOS. Default true. */
  truncation?: boolean;
  /** Wrap each row in BOS … EOS. Default true. */
  addSpecialTokens?: boolean;
}

export interface TokenizerOutput {
  /** One row of token ids per prompt. */
  readonly inputIds: number[][];
  /** 1 for real tokens (BOS and EOS included), 0 for padding. */
  readonly attentionMask: number[][];
  /** Per prompt, the ids cut off by truncation (empty when it fit), e.g. to warn as diffusers does. */
  readonly overflowingTokens: number[][];
}

function positiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  }
}

/** A CLIP BPE tokenizer loaded from a Hugging Face / diffusers / optimum `tokenizer` folder. */
export class CLIPTokenizer {
  readonly bosToken: string;
  readonly eosToken: string;
  readonly unkToken: string;
  readonly padToken: string;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  /** Rows are truncated and padded to this length by default (77 for every SD family). */
  readonly modelMaxLength: number;
  readonly layout: TokenizerLayout;
  /** Number of ids, added tokens included (49408 for every real SD tokenizer). */
  readonly vocabSize: number;
  readonly #tokenizer: Tokenizer;

  private constructor(
    tokenizer: Tokenizer,
    settings: ClipTokenizerSettings,
    layout: TokenizerLayout,
    location: string,
  ) {
    this.#tokenizer = tokenizer;
    this.layout = layout;
    this.vocabSize = tokenizer.get_vocab(true).size;
    this.bosToken = settings.bosToken;
    this.eosToken = settings.eosToken;
    this.unkToken = settings.unkToken;
    this.padToken = settings.padToken;
    this.modelMaxLength = settings.modelMaxLength;
    const id = (token: string, key: string): number => {
      const value = tokenizer.token_to_id(token);
      if (value === undefined) {
        throw new ModelLoadError(location, `${key} ${JSON.stringify(token)} has no id in the vocabulary`);
      }
      return value;
    };
    this.bosTokenId = id(settings.bosToken, 'bos_token');
    this.eosTokenId = id(settings.eosToken, 'eos_token');
    this.padTokenId = id(settings.padToken, 'pad_token');
  }

  /**
   * Loads a tokenizer folder: `tokenizer.json` when present (the fast-tokenizer layout), otherwise
   * `vocab.json` + `merges.txt`. Special tokens and model_max_length come from
   * `tokenizer_config.json` and `special_tokens_map.json` when present.
   */
  static async fromPretrained(
    source: FolderSource,
    options: TokenizerLoadOptions = {},
  ): Promise<CLIPTokenizer> {
    const folder = openFolder(source, options.subfolder ?? '');
    const [tokenizerJson, configText, specialText] = await Promise.all([
      folder.read('tokenizer.json'),
      folder.read('tokenizer_config.json'),
      folder.read('special_tokens_map.json'),
    ]);
    const settings = resolveClipSettings(
      configFile(folder, 'tokenizer_config.json', configText),
      configFile(folder, 'special_tokens_map.json', specialText),
    );
    if (tokenizerJson !== null) {
      const file = folder.pathOf('tokenizer.json');
      const definition = prepareTokenizerJson(parseJsonObject(tokenizerJson, file), settings, file);
      return CLIPTokenizer.#create(definition, settings, 'tokenizer.json', file);
    }
    const [vocabText, mergesText] = await Promise.all([folder.read('vocab.json'), folder.read('merges.txt')]);
    if (vocabText === null || mergesText === null) {
      const missing = [vocabText === null ? 'vocab.json' : null, mergesText === null ? 'merges.txt' : null]
        .filter((name) => name !== null)
        .join(' and ');
      throw new ModelLoadError(
        folder.pathOf(vocabText === null ? 'vocab.json' : 'merges.txt'),
        `tokenizer folder ${folder.location} has no tokenizer.json and is missing ${missing}; expected tokenizer.json, or vocab.json + merges.txt (with tokenizer_config.json and special_tokens_map.json)`,
      );
    }
    const vocabFile = folder.pathOf('vocab.json');
    const vocab = parseVocab(vocabText, vocabFile);
    const merges = parseMerges(mergesText, folder.pathOf('merges.txt'), vocab);
    const definition = clipDefinitionFromVocab(vocab, merges, settings, vocabFile);
    return CLIPTokenizer.#create(definition, settings, 'vocab.json+merges.txt', vocabFile);
  }

  static #create(
    definition: TokenizerDefinition,
    settings: ClipTokenizerSettings,
    layout: TokenizerLayout,
    file: string,
  ): CLIPTokenizer {
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(definition, {});
    } catch (error) {
      throw new ModelLoadError(file, `the tokenizer library rejected it: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new CLIPTokenizer(tokenizer, settings, layout, file);
  }

  /** BPE tokens of one text, without BOS/EOS, e.g. "a red cat" → ["a</w>", "red</w>", "cat</w>"]. */
  tokenize(text: string): string[] {
    return this.#tokenizer.tokenize(text, { add_special_tokens: false });
  }

  tokenToId(token: string): number | undefined {
    return this.#tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.#tokenizer.id_to_token(id);
  }

  /** Text of a row of ids; special tokens (BOS, EOS, pad) are dropped unless asked for. */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const skip = options.skipSpecialTokens ?? true;
    const kept = skip ? ids.filter((id) => !this.#isSpecial(id)) : [...ids];
    if (kept.length === 0) return '';
    return this.#tokenizer
      .decode(kept, { skip_special_tokens: false, clean_up_tokenization_spaces: false })
      .trim();
  }

  #isSpecial(id: number): boolean {
    return id === this.bosTokenId || id === this.eosTokenId || id === this.padTokenId;
  }

  /**
   * Token ids for a batch of prompts, as diffusers calls the tokenizer:
   * `tokenizer(prompts, padding="max_length", max_length=77, truncation=True)`.
   * Each row is BOS, the prompt's tokens (cut to maxLength − 2 when truncating), EOS, then pad ids.
   */
  encode(prompts: string | readonly string[], options: TokenizerEncodeOptions = {}): TokenizerOutput {
    const list = typeof prompts === 'string' ? [prompts] : prompts;
    const maxLength = options.maxLength ?? this.modelMaxLength;
    const padding = options.padding ?? 'max_length';
    const truncation = options.truncation ?? true;
    const addSpecial = options.addSpecialTokens ?? true;
    positiveInteger(maxLength, 'maxLength');
    const specialCount = addSpecial ? 2 : 0;
    if (truncation && maxLength < specialCount + 1) {
      throw new InvalidArgumentError(
        `maxLength must leave room for at least one token besides BOS and EOS (≥ ${specialCount + 1}), got ${maxLength}`,
      );
    }
    if (padding !== 'max_length' && padding !== 'longest' && padding !== false) {
      throw new InvalidArgumentError(
        `padding must be "max_length", "longest" or false, got ${JSON.stringify(padding)}`,
      );
    }
    const rows: number[][] = [];
    const overflowingTokens: number[][] = [];
    for (const prompt of list) {
      if (typeof prompt !== 'string') {
        throw new InvalidArgumentError(`prompts must be strings, got ${typeof prompt}`);
      }
      const ids = this.#tokenizer.encode(prompt, { add_special_tokens: false }).ids;
      const room = maxLength - specialCount;
      const kept = truncation && ids.length > room ? ids.slice(0, room) : ids;
      overflowingTokens.push(ids.slice(kept.length));
      rows.push(addSpecial ? [this.bosTokenId, ...kept, this.eosTokenId] : kept);
    }
    const target =
      padding === 'max_length'
        ? maxLength
        : padding === 'longest'
          ? Math.max(0, ...rows.map((row) => row.length))
          : 0;
    const inputIds: number[][] = [];
    const attentionMask: number[][] = [];
    for (const row of rows) {
      const pad = Math.max(0, target - row.length);
      inputIds.push(pad === 0 ? row : [...row, ...new Array<number>(pad).fill(this.padTokenId)]);
      attentionMask.push([...new Array<number>(row.length).fill(1), ...new Array<number>(pad).fill(0)]);
    }
    return { inputIds, attentionMask, overflowingTokens };
  }
}

function configFile(folder: Folder, name: string, text: string | null): TokenizerConfigFile | null {
  if (text === null) return null;
  const file = folder.pathOf(name);
  return { json: parseJsonObject(text, file), file };
}

/** Loads a tokenizer folder; the same as `CLIPTokenizer.fromPretrained`. */
export function loadTokenizer(source: FolderSource, options?: TokenizerLoadOptions): Promise<CLIPTokenizer> {
  return CLIPTokenizer.fromPretrained(source, options);
}
