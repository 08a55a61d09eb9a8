import { CLIPTokenizer } from '../text/clip-tokenizer';
import type { ModelFolder } from './model-folder';
import type { PromptTokenizer } from './text-conditioning';

/** The folder's CLIP tokenizer (`tokenizer/` or `tokenizer_2/`), padded and truncated to its max length. */
export async function loadPromptTokenizer(folder: ModelFolder, subfolder: string): Promise<PromptTokenizer> {
  const tokenizer = await CLIPTokenizer.fromPretrained(folder.source, { subfolder });
  return { encodeIds: (prompts) => tokenizer.encode(prompts).inputIds };
}
