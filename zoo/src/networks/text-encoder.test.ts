import { encodeModel } from '@noiserefine/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { TINY_SD21, TINY_SDXL, TEXT_LENGTH, ZOO_VOCAB } from './sd-families';
import { buildClipTextEncoder, type ClipTextEncoderConfig, clipTextConfigJson } from './text-encoder';

const encoderConfig = (family: typeof TINY_SD21, index: number) =>
  family.textEncoders[index]?.config as ClipTextEncoderConfig;

/** Rows of ids: BOS, a few word ids, EOS, then padding (EOS or "!" = 0). */
function ids(rows: number[][], pad: number): BigInt64Array {
  const out = new BigInt64Array(rows.length * TEXT_LENGTH);
  rows.forEach((words, r) => {
    const row = [ZOO_VOCAB.bos, ...words, ZOO_VOCAB.eos];
    for (let i = 0; i < TEXT_LENGTH; i++) out[r * TEXT_LENGTH + i] = BigInt(row[i] ?? pad);
  });
  return out;
}

async function run(config: ClipTextEncoderConfig, inputIds: BigInt64Array, seed = 0) {
  const session = await ort.InferenceSession.create(encodeModel(buildClipTextEncoder(config, { seed })));
  const batch = inputIds.length / TEXT_LENGTH;
  const outputs = await session.run({ input_ids: new ort.Tensor('int64', inputIds, [batch, TEXT_LENGTH]) });
  return { session, outputs };
}

const row = (t: ort.Tensor, b: number, s: number, dim: number) => {
  const base = (b * TEXT_LENGTH + s) * dim;
  return Array.from((t.data as Float32Array).subarray(base, base + dim));
};

describe('buildClipTextEncoder', () => {
  it("has an SD 2.1 export's interface: int64 input_ids [B, 77] → last_hidden_state, pooler_output", async () => {
    const config = encoderConfig(TINY_SD21, 0);
    const { session, outputs } = await run(config, ids([[100, 200], [300]], 0));
    expect(session.inputNames).toEqual(['input_ids']);
    expect(session.outputNames).toEqual(['last_hidden_state', 'pooler_output']);
    expect(outputs.last_hidden_state?.dims).toEqual([2, TEXT_LENGTH, config.hiddenSize]);
    expect(outputs.pooler_output?.dims).toEqual([2, config.hiddenSize]);
  });

  it('pools at the first EOS, also when the padding is EOS (CLIP-L style)', async () => {
    const config = encoderConfig(TINY_SDXL, 0);
    const { outputs } = await run(
      config,
      ids(
        [
          [100, 200],
          [300, 301, 302],
        ],
        ZOO_VOCAB.eos,
      ),
    );
    const dim = config.hiddenSize;
    const last = outputs.last_hidden_state as ort.Tensor;
    const pooled = Array.from((outputs.pooler_output as ort.Tensor).data as Float32Array);
    // BOS, 2 words, EOS at 3; BOS, 3 words, EOS at 4.
    expect(pooled.slice(0, dim)).toEqual(row(last, 0, 3, dim));
    expect(pooled.slice(dim)).toEqual(row(last, 1, 4, dim));
  });

  it('attends causally: a token does not see the tokens after it', async () => {
    const config = encoderConfig(TINY_SD21, 0);
    const { outputs } = await run(
      config,
      ids(
        [
          [100, 200, 300],
          [100, 200, 400],
        ],
        0,
      ),
    );
    const last = outputs.last_hidden_state as ort.Tensor;
    const dim = config.hiddenSize;
    for (const s of [0, 1, 2]) expect(row(last, 1, s, dim)).toEqual(row(last, 0, s, dim));
    expect(row(last, 1, 3, dim)).not.toEqual(row(last, 0, 3, dim));
  });

  it("has SDXL text_encoder_2's interface: text_embeds, last_hidden_state and hidden_states.0 … N", async () => {
    const config = encoderConfig(TINY_SDXL, 1);
    const { session, outputs } = await run(config, ids([[100]], 0));
    const layers = config.numHiddenLayers;
    expect(session.outputNames).toEqual([
      'last_hidden_state',
      'text_embeds',
      ...Array.from({ length: layers + 1 }, (_, i) => `hidden_states.${i}`),
    ]);
    expect(outputs.text_embeds?.dims).toEqual([1, config.projectionDim]);
    for (let i = 0; i <= layers; i++) {
      expect(outputs[`hidden_states.${i}`]?.dims).toEqual([1, TEXT_LENGTH, config.hiddenSize]);
    }
    // hidden_states.N is the last layer's output before final_layer_norm.
    const lastLayer = (outputs[`hidden_states.${layers}`] as ort.Tensor).data as Float32Array;
    const normed = (outputs.last_hidden_state as ort.Tensor).data as Float32Array;
    const first = Array.from(lastLayer.subarray(0, config.hiddenSize));
    const mean = first.reduce((a, b) => a + b, 0) / first.length;
    const std = Math.sqrt(
      first.reduce((a, b) => a + (b - mean) ** 2, 0) / first.length + config.layerNormEps,
    );
    const expected = first.map((v) => (v - mean) / std);
    expect(Math.max(...expected.map((v, i) => Math.abs((normed[i] as number) - v)))).toBeLessThan(1e-4);
  });

  it('keeps token identity: different words give clearly different hidden states', async () => {
    const config = encoderConfig(TINY_SD21, 0);
    const { outputs } = await run(config, ids([[100], [101]], 0));
    const a = row(outputs.last_hidden_state as ort.Tensor, 0, 1, config.hiddenSize);
    const b = row(outputs.last_hidden_state as ort.Tensor, 1, 1, config.hiddenSize);
    const dot = a.reduce((s, v, i) => s + v * (b[i] as number), 0);
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    expect(dot / (norm(a) * norm(b))).toBeLessThan(0.8);
  });

  it("writes transformers' CLIPTextConfig keys", () => {
    const json = clipTextConfigJson(encoderConfig(TINY_SDXL, 1));
    expect(json).toMatchObject({
      architectures: ['CLIPTextModelWithProjection'],
      vocab_size: ZOO_VOCAB.size,
      max_position_embeddings: TEXT_LENGTH,
      eos_token_id: ZOO_VOCAB.eos,
      projection_dim: 48,
      hidden_act: 'gelu',
    });
  });

  it('rejects a vocabulary whose EOS is not the largest id (argmax pooling would miss it)', () => {
    expect(() => buildClipTextEncoder({ ...encoderConfig(TINY_SD21, 0), eosTokenId: 5 })).toThrow(
      /eosTokenId/,
    );
  });
});
