import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeModel, GraphBuilder, linear, patchify, unpatchify } from '@noiserefine/onnx';
import { fixtureBytes } from './tiny-models';

/**
 * A SiT pipeline folder around the tiny-sit fixture: its transformer, the SiT flow scheduler,
 * and a small VAE decoder (a per-pixel linear map from 4 latent channels to RGB, tanh to
 * [−1, 1]) so validation grids decode like a real pipeline's.
 */
export async function writeTinySiTFolder(dir: string): Promise<string> {
  const g = new GraphBuilder({ name: 'vae_decoder', seed: 7 });
  const latents = g.input('latent_sample', 'float32', ['batch', 4, 8, 8]);
  const pixels = linear(g, patchify(g, latents, { patchSize: 1, channels: 4, height: 8, width: 8 }), {
    name: 'to_rgb',
    inFeatures: 4,
    outFeatures: 3,
  });
  g.output(unpatchify(g, g.tanh(pixels), { patchSize: 1, channels: 3, height: 8, width: 8 }), 'sample');
  const files: Record<string, string | Uint8Array> = {
    'model_index.json': JSON.stringify({ _class_name: 'SiTPipeline', transformer: ['noiserefine', 'SiT'] }),
    'transformer/config.json': JSON.stringify({
      num_classes: 10,
      input_size: 8,
      in_channels: 4,
      guidance_scale: 4,
    }),
    'transformer/model.onnx': fixtureBytes('tiny-sit'),
    'scheduler/scheduler_config.json': JSON.stringify({ _class_name: 'SiTFlowScheduler' }),
    'vae_decoder/config.json': JSON.stringify({ scaling_factor: 1 }),
    'vae_decoder/model.onnx': encodeModel(g.toModel()),
  };
  for (const [path, data] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), data);
  }
  return dir;
}
