export * from './clip-tokenizer';
export { CLIP_END_OF_WORD } from './clip-tokenizer-definition';
export * from './clip-vocabulary';
export { CLIP_DEFAULTS, type ClipTokenizerSettings } from './tokenizer-config';
export type { TokenizerFileReader, TokenizerSource } from './tokenizer-files';
export * from './token-tensor';
