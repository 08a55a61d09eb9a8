import type { Model } from '../backend/model';
import { ModelSignatureError } from '../errors';
import type { Tensor } from '../tensor/tensor';
import { describeValues, idsFeed, inputInfo } from './model-io';

/** What the pipelines need of a tokenizer: fixed-length ids, padded the folder's way. */
export interface PromptTokenizer {
  encodeIds(prompts: readonly string[]): Promise<number[][]> | number[][];
}

export interface EncodedText {
  /** Hidden states the denoiser attends to, [B, seq, D]. */
  hiddenStates: Tensor;
  /** Pooled / projected embedding, [B, D'] when the encoder outputs one. */
  pooled?: Tensor;
}

/**
 * Runs a text encoder on token ids. `layer` picks the hidden states: 'last' uses
 * `last_hidden_state`; 'penultimate' uses the second-to-last `hidden_states.N`
 * output (SDXL), found from the model's output names.
 */
export async function encodeText(
  tokenizer: PromptTokenizer,
  encoder: Model,
  prompts: readonly string[],
  layer: 'last' | 'penultimate',
): Promise<EncodedText> {
  const ids = await tokenizer.encodeIds(prompts);
  const seq = ids[0]?.length ?? 0;
  const feed = idsFeed(inputInfo(encoder, 'input_ids'), ids.flat(), [ids.length, seq]);
  const hiddenName = layer === 'last' ? 'last_hidden_state' : penultimateName(encoder);
  const pooledName = ['text_embeds', 'pooler_output'].find((n) => encoder.outputs.some((o) => o.name === n));
  if (!encoder.outputs.some((o) => o.name === hiddenName)) {
    throw new ModelSignatureError(
      `text encoder: expected an output "${hiddenName}"; the model has ${describeValues(encoder.outputs)}`,
    );
  }
  const outputs = await encoder.run(
    { input_ids: feed },
    { outputs: pooledName ? [hiddenName, pooledName] : [hiddenName] },
  );
  return {
    hiddenStates: outputs[hiddenName] as Tensor,
    pooled: pooledName ? outputs[pooledName] : undefined,
  };
}

function penultimateName(encoder: Model): string {
  const layers = encoder.outputs
    .map((o) => /^hidden_states\.(\d+)$/.exec(o.name)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number);
  if (layers.length < 2) {
    throw new ModelSignatureError(
      `text encoder: SDXL needs per-layer outputs hidden_states.0 … hidden_states.N; the model has ${describeValues(encoder.outputs)}`,
    );
  }
  return `hidden_states.${Math.max(...layers) - 1}`;
}
