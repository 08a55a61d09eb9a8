import {
  type BackendSpec,
  DDIMScheduler,
  type DenoiserSpec,
  Generator,
  classifierFreeGuidance,
  resolveBackend,
  runPasses,
  runSamplingLoop,
  tensor,
} from '@noiserefine/core';
import { fixturePath } from '@noiserefine/core/testing';

export interface LoopConfig {
  /** The only thing that changes between runs: an adapter name or object. */
  backend: BackendSpec;
  seed?: number;
  steps?: number;
  guidanceScale?: number;
}

/**
 * A 20-step DDIM loop with CFG on a small torch-exported SD-style UNet, through the public
 * API only. Returns the final latent as a Float32Array, identical in layout on every backend.
 */
export async function runDenoiseLoop(config: LoopConfig): Promise<Float32Array> {
  const backend = await resolveBackend(config.backend);
  const unet = await backend.loadModel(fixturePath('tiny-unet'));
  const scheduler = DDIMScheduler.fromConfig({
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    beta_end: 0.012,
    clip_sample: false,
    set_alpha_to_one: false,
    steps_offset: 1,
  });
  scheduler.setTimesteps(config.steps ?? 20);
  const generator = new Generator(config.seed ?? 0);
  const latents = generator.randn([1, 4, 8, 8], backend.tensors);
  // Prompt embeddings would come from a text encoder; fixed seeded ones keep the example self-contained.
  const embeddings = generator.randnValues(7 * 32);
  const cond = tensor(embeddings, [1, 7, 32], backend.tensors);
  const uncond = tensor(new Float32Array(7 * 32), [1, 7, 32], backend.tensors);
  const spec: DenoiserSpec = {
    model: unet,
    sampleInput: 'sample',
    timestepInput: 'timestep',
    output: 'out_sample',
    conditioning: (pass) => ({ encoder_hidden_states: pass === 'uncond' ? uncond : cond }),
  };
  const final = await runSamplingLoop({
    scheduler,
    guidance: classifierFreeGuidance({ guidanceScale: config.guidanceScale ?? 7.5 }),
    latents,
    denoise: (x, t, passes) => runPasses(spec, x, t, passes),
  });
  const values = await final.data();
  for (const t of [final, latents, cond, uncond]) t.dispose();
  await unet.dispose();
  return values;
}
