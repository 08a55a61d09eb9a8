import {
  type DenoiserSpec,
  type GuidancePass,
  isHostTensor,
  type ModelFeeds,
  ModelSignatureError,
  scalarFeed,
  type Tensor,
} from '@noiserefine/core';
import type { TfjsBackend, TfjsModel } from '@noiserefine/tfjs';

/** The denoiser as a synchronous function on tfjs tensors, so a gradient tape can record it. */
export type SyncDenoise = (sample: Tensor, timestep: number, pass?: GuidancePass) => Tensor;

/**
 * A denoiser spec's model run on tfjs through `model.forward`: the sample and the outputs
 * stay on the tape, so gradients flow back through every call. The conditioning feeds of each
 * pass are copied to tfjs once, up front; `dispose` frees the copies.
 */
export async function tfjsDenoise(
  model: TfjsModel,
  spec: DenoiserSpec,
  tfjs: TfjsBackend,
  batch: number,
  passes: readonly GuidancePass[] = ['cond'],
): Promise<{ denoise: SyncDenoise; dispose(): void }> {
  const owned: Tensor[] = [];
  const feedsByPass = new Map<GuidancePass, ModelFeeds>();
  for (const pass of passes) {
    const feeds: ModelFeeds = {};
    for (const [name, value] of Object.entries(spec.conditioning(pass))) {
      if (isHostTensor(value)) {
        feeds[name] = value;
      } else {
        const copy = tfjs.tensors.fromData(await value.data(), value.shape);
        owned.push(copy);
        feeds[name] = copy;
      }
    }
    feedsByPass.set(pass, feeds);
  }
  const timestepInfo = model.inputs.find((i) => i.name === spec.timestepInput);
  if (!timestepInfo) {
    throw new ModelSignatureError(
      `tfjs denoiser: expected an input "${spec.timestepInput}", got ${model.inputs.map((i) => i.name).join(', ')}`,
    );
  }
  const denoise: SyncDenoise = (sample, timestep, pass = 'cond') => {
    const feeds = feedsByPass.get(pass);
    if (!feeds) {
      throw new ModelSignatureError(
        `tfjs denoiser: no conditioning prepared for pass "${pass}"; prepared ${[...feedsByPass.keys()].join(', ')}`,
      );
    }
    const t = spec.timestepValue?.(timestep) ?? timestep;
    const out = model.forward(
      { ...feeds, [spec.sampleInput]: sample, [spec.timestepInput]: scalarFeed(timestepInfo, t, batch) },
      { outputs: [spec.output] },
    );
    return out[spec.output] as Tensor;
  };
  return {
    denoise,
    dispose: () => {
      for (const t of owned) t.dispose();
    },
  };
}
