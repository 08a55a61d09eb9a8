import { InvalidConfigError, ModelLoadError } from '../errors';

/** The special tokens and length limit of a CLIP tokenizer folder, as text. */
export interface ClipTokenizerSettings {
  readonly bosToken: string;
  readonly eosToken: string;
  readonly unkToken: string;
  /** EOS for OpenAI CLIP-L (SD 1.x, SDXL `tokenizer`), "!" for OpenCLIP (SD 2.x, SDXL `tokenizer_2`). */
  readonly padToken: string;
  readonly modelMaxLength: number;
}

/** transformers' defaults for CLIPTokenizer, used for keys a folder leaves out. */
export const CLIP_DEFAULTS: ClipTokenizerSettings = {
  bosToken: '<|startoftext|>',
  eosToken: '<|endoftext|>',
  unkToken: '<|endoftext|>',
  padToken: '<|endoftext|>',
  modelMaxLength: 77,
};

// transformers writes int(1e30) as model_max_length when a checkpoint declares none.
const UNSET_MAX_LENGTH_THRESHOLD = 1e15;

type JsonObject = Record<string, unknown>;

/** Parses a JSON file of a tokenizer folder, naming the file when it is not valid JSON or not an object. */
export function parseJsonObject(text: string, file: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ModelLoadError(file, `expected valid JSON, got a parse error: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
    throw new ModelLoadError(file, `expected a JSON object, got ${kind}`);
  }
  return value as JsonObject;
}

/**
 * A special token as transformers saves it: a plain string, or an AddedToken object
 * (`{"content": "<|endoftext|>", "lstrip": false, ...}`, older files add `"__type": "AddedToken"`).
 */
function tokenContent(value: unknown, key: string, file: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as JsonObject).content === 'string') {
    return (value as JsonObject).content as string;
  }
  throw new InvalidConfigError(key, 'a token string or an object with a "content" string', value, {
    source: file,
  });
}

function maxLength(value: unknown, file: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 2) {
    throw new InvalidConfigError('model_max_length', 'an integer of at least 2', value, { source: file });
  }
  return value >= UNSET_MAX_LENGTH_THRESHOLD ? undefined : value;
}

export interface TokenizerConfigFile {
  readonly json: JsonObject;
  readonly file: string;
}

const SPECIAL_KEYS = [
  ['bos_token', 'bosToken'],
  ['eos_token', 'eosToken'],
  ['unk_token', 'unkToken'],
  ['pad_token', 'padToken'],
] as const;

/**
 * Resolves the special tokens and length limit the way transformers does when loading a folder:
 * `special_tokens_map.json` overrides `tokenizer_config.json`, which overrides CLIP's defaults.
 * Either file may be absent.
 */
export function resolveClipSettings(
  tokenizerConfig: TokenizerConfigFile | null,
  specialTokensMap: TokenizerConfigFile | null,
): ClipTokenizerSettings {
  const settings: { -readonly [K in keyof ClipTokenizerSettings]: ClipTokenizerSettings[K] } = {
    ...CLIP_DEFAULTS,
  };
  for (const source of [tokenizerConfig, specialTokensMap]) {
    if (source === null) continue;
    for (const [key, field] of SPECIAL_KEYS) {
      const content = tokenContent(source.json[key], key, source.file);
      if (content !== undefined) settings[field] = content;
    }
  }
  if (tokenizerConfig !== null) {
    const length = maxLength(tokenizerConfig.json.model_max_length, tokenizerConfig.file);
    if (length !== undefined) settings.modelMaxLength = length;
  }
  return settings;
}
