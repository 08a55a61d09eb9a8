import { readFile } from 'node:fs/promises';
import { StableDiffusionPipeline, perturbedAttentionGuidance } from '@noiserefine/core';
import { makePerturbedAttentionModelBytes } from '@noiserefine/onnx';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';

const folder = './models/stable-diffusion-2-1';
const backend = onnxruntimeNode();
const pipe = await StableDiffusionPipeline.fromPretrained(folder, { backend });

// PAG's perturbed denoiser: the UNet with the mid block's self-attention map set to the identity.
const unetBytes = await readFile(`${folder}/unet/model.onnx`);
const perturbedUnet = await backend.loadModel(
  makePerturbedAttentionModelBytes(unetBytes, { appliedLayers: 'mid' }),
);
const withPag = new StableDiffusionPipeline(
  pipe.backend,
  pipe.tokenizer,
  pipe.textEncoder,
  pipe.unet,
  pipe.vaeDecoder,
  pipe.scheduler,
  pipe.geometry,
  perturbedUnet,
);

// CFG 7 + PAG 3, batch [uncond, cond] in one call and the perturbed pass in another.
await withPag.generate({
  prompt: 'a red plus sign on a dark grey background',
  guidance: perturbedAttentionGuidance({ pagScale: 3, guidanceScale: 7 }),
  seed: 0,
});
await Promise.all([pipe.dispose(), perturbedUnet.dispose()]);
