import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidConfigError, ModelLoadError } from '@noiserefine/core';
import {
  decodeModel,
  encodeModel,
  GraphBuilder,
  linear,
  type ModelProto,
  patchify,
  unpatchify,
} from '@noiserefine/onnx';
import { PatchAutoencoder } from './patch-autoencoder';
import { CHANNELS } from './patch-grid';

/** Module paths of the one linear layer on each side. */
export const ENCODER_PROJECTION = 'encoder.proj';
export const DECODER_PROJECTION = 'decoder.proj';

/** Scaling factors of the latent spaces the zoo's families stand in for. */
export const SCALING_FACTORS = { sd21: 0.18215, sdxl: 0.13025 } as const;

/**
 * The encoder (`sample` [B, 3, S, S] → `latent_sample` [B, C, S/p, S/p], raw, as older
 * diffusers exports give it) and decoder (`latent_sample` → `sample`) as ONNX graphs.
 * The encoder is deterministic, so there is no `latent_parameters` output.
 */
export function autoencoderToOnnx(
  ae: PatchAutoencoder,
  metadata: Readonly<Record<string, string>> = {},
): { encoder: ModelProto; decoder: ModelProto } {
  const { imageSize: size, patchSize, latentChannels: k } = ae.geometry;
  const h = ae.latentSize;
  const patches = { patchSize, channels: CHANNELS, height: size, width: size };
  const { mean, encoderWeight, decoderWeight } = ae.weights;
  const described = {
    autoencoder: 'linear-pca-patch',
    scaling_factor: String(ae.geometry.scalingFactor),
    ...metadata,
  };

  // The encoder's centring folds into its bias: (x − mean)·W = x·W − mean·W.
  const encoderBias = new Float32Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let d = 0; d < ae.patchDim; d++) s -= (mean[d] as number) * (encoderWeight[d * k + c] as number);
    encoderBias[c] = s;
  }
  const enc = new GraphBuilder({
    name: 'vae_encoder',
    weights: { [`${ENCODER_PROJECTION}.weight`]: encoderWeight, [`${ENCODER_PROJECTION}.bias`]: encoderBias },
    exactWeights: true,
  });
  const sample = enc.input('sample', 'float32', ['batch', CHANNELS, size, size]);
  const tokens = linear(enc, patchify(enc, sample, patches), {
    name: ENCODER_PROJECTION,
    inFeatures: ae.patchDim,
    outFeatures: k,
  });
  enc.output(enc.transpose(enc.reshape(tokens, [0, h, h, k]), [0, 3, 1, 2]), 'latent_sample');

  const dec = new GraphBuilder({
    name: 'vae_decoder',
    weights: { [`${DECODER_PROJECTION}.weight`]: decoderWeight, [`${DECODER_PROJECTION}.bias`]: mean },
    exactWeights: true,
  });
  const latent = dec.input('latent_sample', 'float32', ['batch', k, h, h]);
  const flat = dec.reshape(dec.transpose(latent, [0, 2, 3, 1]), [0, h * h, k]);
  const patchValues = linear(dec, flat, {
    name: DECODER_PROJECTION,
    inFeatures: k,
    outFeatures: ae.patchDim,
  });
  dec.output(unpatchify(dec, patchValues, patches), 'sample');

  return { encoder: enc.toModel({ metadata: described }), decoder: dec.toModel({ metadata: described }) };
}

/**
 * config.json in the shape of diffusers' AutoencoderKL config, which pipelines read:
 * `scaling_factor`, channels, `sample_size`, and `block_out_channels` whose length gives
 * the downsampling factor 2^(len − 1) the way diffusers computes vae_scale_factor. The
 * `patch_size` and `autoencoder_type` keys say what the model really is.
 */
export function vaeConfig(ae: PatchAutoencoder): Record<string, unknown> {
  const { imageSize, patchSize, latentChannels, scalingFactor } = ae.geometry;
  const levels = Math.log2(patchSize) + 1;
  return {
    _class_name: 'AutoencoderKL',
    autoencoder_type: 'linear-pca-patch',
    in_channels: CHANNELS,
    out_channels: CHANNELS,
    latent_channels: latentChannels,
    sample_size: imageSize,
    patch_size: patchSize,
    block_out_channels: Array.from({ length: Number.isInteger(levels) ? levels : 1 }, () => ae.patchDim),
    scaling_factor: scalingFactor,
    force_upcast: false,
  };
}

/** Writes `vae_encoder/` and `vae_decoder/` (model.onnx + config.json each) under `dir`. */
export async function writeAutoencoder(
  dir: string,
  ae: PatchAutoencoder,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  const { encoder, decoder } = autoencoderToOnnx(ae, metadata);
  const config = `${JSON.stringify(vaeConfig(ae), null, 2)}\n`;
  for (const [name, model] of [
    ['vae_encoder', encoder],
    ['vae_decoder', decoder],
  ] as const) {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, 'model.onnx'), encodeModel(model));
    await writeFile(join(dir, name, 'config.json'), config);
  }
}

function initializer(model: ModelProto, name: string, file: string): Float32Array {
  const tensor = model.graph?.initializer?.find((t) => t.name === name);
  const raw = tensor?.rawData;
  if (!raw || raw.byteLength % 4 !== 0) {
    throw new ModelLoadError(file, `expected a float32 initializer "${name}" in raw_data, found none`);
  }
  // Copy into a fresh buffer: decoded bytes may be an unaligned view (a Node Buffer from a pool).
  return new Float32Array(new Uint8Array(raw).buffer);
}

/** Reads back an autoencoder written by writeAutoencoder (weights from the ONNX initializers). */
export async function readAutoencoder(dir: string): Promise<PatchAutoencoder> {
  const configFile = join(dir, 'vae_decoder', 'config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  const number = (key: string): number => {
    const v = config[key];
    if (typeof v !== 'number' || !(v > 0)) {
      throw new InvalidConfigError(key, 'a positive number', v, { source: configFile });
    }
    return v;
  };
  const geometry = {
    imageSize: number('sample_size'),
    patchSize: number('patch_size'),
    latentChannels: number('latent_channels'),
    scalingFactor: number('scaling_factor'),
  };
  const encoderFile = join(dir, 'vae_encoder', 'model.onnx');
  const decoderFile = join(dir, 'vae_decoder', 'model.onnx');
  const encoder = decodeModel(await readFile(encoderFile));
  const decoder = decodeModel(await readFile(decoderFile));
  return new PatchAutoencoder(geometry, {
    mean: initializer(decoder, `${DECODER_PROJECTION}.bias`, decoderFile),
    encoderWeight: initializer(encoder, `${ENCODER_PROJECTION}.weight`, encoderFile),
    decoderWeight: initializer(decoder, `${DECODER_PROJECTION}.weight`, decoderFile),
  });
}
