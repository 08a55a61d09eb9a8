/**
 * NoiseRefine generation as an app writes it, run by the browser test both in a page (the
 * folder read over HTTP) and in Node (the folder read from disk): a SiT pipeline and its
 * refiner, refined noise, unguided sampling, latents out.
 */
import { type Backend, NoiseRefiner, SiTPipeline } from '@noiserefine/core';

export interface RefinedSitOptions {
  classLabel: readonly number[];
  seed: number;
  numInferenceSteps: number;
}

export interface RefinedSitResult {
  refined: Float32Array;
  /** The same call without the refiner: Gaussian noise, unguided. */
  unrefined: Float32Array;
}

/** `folder` is a directory or URL holding a SiTPipeline with its refiner in `refiner/`. */
export async function runRefinedSit(
  backend: Backend,
  folder: string,
  options: RefinedSitOptions,
): Promise<RefinedSitResult> {
  const base = folder.endsWith('/') ? folder : `${folder}/`;
  const pipe = await SiTPipeline.fromPretrained(base, { backend });
  const refiner = await NoiseRefiner.fromPretrained(`${base}refiner`, { backend });
  try {
    const common = { ...options, guidanceScale: 1, outputType: 'latent' as const };
    const refined = (await pipe.generate({ ...common, refiner })).latents;
    const unrefined = (await pipe.generate(common)).latents;
    const result = { refined: await refined.data(), unrefined: await unrefined.data() };
    for (const t of [refined, unrefined]) t.dispose();
    return result;
  } finally {
    await Promise.all([pipe.dispose(), refiner.dispose()]);
  }
}
