import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { refinerConfigJson } from '@noiserefine/core';
import { fixturePath } from '@noiserefine/core/testing';
import { encodeModel, makeRefinerGraph } from '@noiserefine/onnx';

const SHARED_VAE = fileURLToPath(
  new URL('../../../models/shared/patch-vae-sd21/vae_decoder', import.meta.url),
);

/**
 * A zoo-shaped models folder with one SiT model, `tiny-sit`, made of the core fixture's
 * transformer (10 classes, latents [4, 8, 8], untrained) and the zoo's patch VAE decoder
 * (16×16 images, the evaluator's size), plus a LoRA refiner at its initialisation (g ≡ 0).
 */
export async function writeFixtureZoo(modelsDir: string): Promise<string> {
  const dir = join(modelsDir, 'tiny-sit');
  const transformer = new Uint8Array(await readFile(fixturePath('tiny-sit')));
  const files: Record<string, string | Uint8Array> = {
    'model_index.json': JSON.stringify({ _class_name: 'SiTPipeline', transformer: ['noiserefine', 'SiT'] }),
    'transformer/config.json': JSON.stringify({
      num_classes: 10,
      input_size: 8,
      in_channels: 4,
      guidance_scale: 4,
    }),
    'transformer/model.onnx': transformer,
    'scheduler/scheduler_config.json': JSON.stringify({ _class_name: 'SiTFlowScheduler' }),
  };
  for (const [path, data] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), data);
  }
  await cp(SHARED_VAE, join(dir, 'vae_decoder'), { recursive: true });
  const refiner = makeRefinerGraph(transformer, {
    kind: 'lora',
    rank: 2,
    family: 'sit',
    baseModel: 'tiny-sit',
  });
  await mkdir(join(dir, 'refiner'), { recursive: true });
  await writeFile(join(dir, 'refiner', 'model.onnx'), encodeModel(refiner.model));
  await writeFile(
    join(dir, 'refiner', 'config.json'),
    JSON.stringify(
      refinerConfigJson({
        family: 'sit',
        baseModel: 'tiny-sit',
        kind: 'lora',
        timestep: 0,
        latentShape: [4, 8, 8],
      }),
    ),
  );
  return dir;
}
