import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel, getMetadata, type ModelProto } from '@noiserefine/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { generateDataset } from '../dataset';
import { fitPatchAutoencoder } from './fit';
import { autoencoderToOnnx, readAutoencoder, vaeConfig, writeAutoencoder } from './onnx-export';

const ae = fitPatchAutoencoder(generateDataset({ seed: 0, count: 200 }).images, {
  imageSize: 16,
  patchSize: 2,
  latentChannels: 4,
  scalingFactor: 0.13025,
});
const images = generateDataset({ seed: 9, count: 6 }).images;

async function run(model: ModelProto, name: string, data: Float32Array, dims: number[]) {
  const session = await ort.InferenceSession.create(encodeModel(model));
  try {
    const out = await session.run({ [name]: new ort.Tensor('float32', data, dims) });
    return { names: session.outputNames, tensor: Object.values(out)[0]! };
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('the autoencoder as ONNX', () => {
  it('the encoder and decoder equal the TypeScript autoencoder within 1e-5 on onnxruntime', async () => {
    const { encoder, decoder } = autoencoderToOnnx(ae, { family: 'sdxl' });
    const encoded = await run(encoder, 'sample', images, [6, 3, 16, 16]);
    expect(encoded.names).toEqual(['latent_sample']);
    expect(encoded.tensor.dims).toEqual([6, 4, 8, 8]);
    const z = ae.encode(images);
    expect(maxAbsDiff(encoded.tensor.data as Float32Array, z)).toBeLessThan(1e-5);

    const decoded = await run(decoder, 'latent_sample', z, [6, 4, 8, 8]);
    expect(decoded.names).toEqual(['sample']);
    expect(decoded.tensor.dims).toEqual([6, 3, 16, 16]);
    expect(maxAbsDiff(decoded.tensor.data as Float32Array, ae.decode(z))).toBeLessThan(1e-5);
    expect(getMetadata(encoder)).toMatchObject({ family: 'sdxl', autoencoder: 'linear-pca-patch' });
  });

  it('writes diffusers-style folders that read back to the same autoencoder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'patch-vae-'));
    await writeAutoencoder(dir, ae);
    const config = JSON.parse(await readFile(join(dir, 'vae_encoder', 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      _class_name: 'AutoencoderKL',
      latent_channels: 4,
      scaling_factor: 0.13025,
    });
    // diffusers: vae_scale_factor = 2 ** (len(block_out_channels) - 1) = the patch size.
    expect(2 ** (config.block_out_channels.length - 1)).toBe(2);
    expect(vaeConfig(ae)).toEqual(config);
    const back = await readAutoencoder(dir);
    expect(back.geometry).toEqual(ae.geometry);
    expect(back.weights.encoderWeight).toEqual(ae.weights.encoderWeight);
    expect(back.decode(back.encode(images))).toEqual(ae.decode(ae.encode(images)));
  });
});
