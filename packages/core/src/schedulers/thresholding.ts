import { UnsupportedCapabilityError } from '../errors';
import { type Tensor, tensor } from '../tensor/index';

/** torch.quantile with linear interpolation. */
function quantile(values: Float32Array, q: number): number {
  const sorted = Float32Array.from(values).sort();
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return (sorted[lo] as number) + (pos - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

/**
 * Dynamic thresholding (Imagen): per sample, s = clamp(quantile(|x0|, ratio), 1, maxValue);
 * x0 ← clamp(x0, −s, s) / s. A quantile needs a sort, so this reads the tensor back
 * synchronously: it is an opt-in option, off in every shipped config.
 */
export function dynamicThreshold(x0: Tensor, ratio: number, maxValue: number): Tensor {
  const read = x0.backend.readSync;
  if (!read) {
    throw new UnsupportedCapabilityError(
      `dynamic thresholding reads latents back synchronously; the "${x0.backend.name}" backend cannot. Use the reference backend or turn "thresholding" off`,
    );
  }
  const values = read.call(x0.backend, x0);
  const batch = x0.shape[0] ?? 1;
  const per = values.length / batch;
  const out = new Float32Array(values.length);
  for (let b = 0; b < batch; b++) {
    const row = values.subarray(b * per, (b + 1) * per);
    const s = Math.min(Math.max(quantile(row.map(Math.abs), ratio), 1), maxValue);
    for (let i = 0; i < per; i++) out[b * per + i] = Math.min(Math.max(row[i] as number, -s), s) / s;
  }
  return tensor(out, x0.shape, x0.backend);
}
