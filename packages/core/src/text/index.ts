export * from './clip-tokenizer';
export { CLIP_END_OF_WORD } from './clip-tokenizer-definition';
export * from './clip-vocabulary';
export { CLIP_DEFAULTS, type ClipTokenizerSettings } from './tokenizer-config';
export type { FileReader, FolderSource } from '../io/folder';
export * from './token-tensor';
