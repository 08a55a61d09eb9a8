import { UnsupportedCapabilityError } from '../errors';
import type { HostTensor, Model, ModelFeeds } from '../backend/model';
import type { GuidancePass, PassOutputs } from '../guidance/guidance';
import { splitPasses, stackPasses } from '../guidance/passes';
import { concat, disposeAll } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import { inputInfo, scalarFeed } from './model-io';

/** What a family tells the runner about its denoiser. */
export interface DenoiserSpec {
  model: Model;
  /** The perturbed-attention variant of the same denoiser, for PAG's 'perturbed' pass. */
  perturbedModel?: Model;
  sampleInput: string;
  timestepInput: string;
  output: string;
  /** Maps the scheduler's timestep to the model's (identity for SD; t for SiT). */
  timestepValue?: (timestep: number) => number;
  /** Conditioning feeds of one pass, each of batch B (prompt embeddings, labels, time_ids…). */
  conditioning(pass: GuidancePass): ModelFeeds;
}

function isTensor(x: Tensor | HostTensor): x is Tensor {
  return typeof (x as Tensor).data === 'function';
}

/** Concatenates per-pass feeds of one input along the batch axis. */
function concatFeeds(parts: readonly (Tensor | HostTensor)[]): Tensor | HostTensor {
  const first = parts[0] as Tensor | HostTensor;
  if (parts.length === 1) return first;
  if (isTensor(first)) return concat(parts as Tensor[], 0);
  const host = parts as HostTensor[];
  const total = host.reduce((n, p) => n + p.data.length, 0);
  const Ctor = (first.data as unknown as { constructor: new (n: number) => ArrayLike<unknown> }).constructor;
  const data = new Ctor(total) as unknown as { set(src: ArrayLike<unknown>, offset: number): void };
  let offset = 0;
  for (const p of host) {
    data.set(p.data as ArrayLike<unknown>, offset);
    offset += p.data.length;
  }
  const batch = host.reduce((n, p) => n + (p.shape[0] ?? 1), 0);
  return {
    dtype: first.dtype,
    data: data as unknown as HostTensor['data'],
    shape: [batch, ...first.shape.slice(1)],
  };
}

async function runBatch(
  spec: DenoiserSpec,
  model: Model,
  x: Tensor,
  t: number,
  passes: readonly GuidancePass[],
) {
  const sample = stackPasses(passes, x);
  const batch = sample.shape[0] as number;
  const feeds: ModelFeeds = {
    [spec.sampleInput]: sample,
    [spec.timestepInput]: scalarFeed(
      inputInfo(model, spec.timestepInput),
      spec.timestepValue?.(t) ?? t,
      batch,
    ),
  };
  const perPass = passes.map((p) => spec.conditioning(p));
  for (const name of Object.keys(perPass[0] ?? {})) {
    feeds[name] = concatFeeds(perPass.map((f) => f[name] as Tensor | HostTensor));
  }
  const result = await model.run(feeds, { outputs: [spec.output] });
  const out = result[spec.output] as Tensor;
  const created = Object.values(feeds).filter(
    (f): f is Tensor => isTensor(f) && !perPass.some((p) => Object.values(p).includes(f)),
  );
  disposeAll(...created);
  return out;
}

/**
 * Runs the forward passes a guidance step asks for: 'uncond' and 'cond' in one
 * batched call of the denoiser, 'perturbed' on its perturbed-attention variant.
 */
export async function runPasses(
  spec: DenoiserSpec,
  x: Tensor,
  timestep: number,
  passes: readonly GuidancePass[],
): Promise<PassOutputs> {
  const main = passes.filter((p) => p !== 'perturbed');
  const outputs: Partial<Record<GuidancePass, Tensor>> = {};
  if (main.length > 0) {
    const batched = await runBatch(spec, spec.model, x, timestep, main);
    Object.assign(
      outputs,
      main.length === 1 ? { [main[0] as GuidancePass]: batched } : splitPasses(batched, main),
    );
    if (main.length > 1) batched.dispose();
  }
  if (passes.includes('perturbed')) {
    if (!spec.perturbedModel) {
      throw new UnsupportedCapabilityError(
        'perturbed-attention guidance needs the perturbed variant of the denoiser: load one with perturbedModel (see makePerturbedAttentionModel) or use classifier-free guidance',
      );
    }
    const cond = spec.conditioning;
    outputs.perturbed = await runBatch(
      { ...spec, conditioning: () => cond('cond') },
      spec.perturbedModel,
      x,
      timestep,
      ['cond'],
    );
  }
  return outputs as PassOutputs;
}
