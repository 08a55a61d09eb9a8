/**
 * The fixtures of diffusers' scheduler test suite, rebuilt exactly, so our
 * schedulers can be checked against its published sums and means.
 */
import { type Tensor, tensor } from '../tensor/index';

const B = 4;
const C = 3;
const H = 8;
const W = 8;

/** arange(768) laid out (C, H, W, B), divided by 768, permuted to (B, C, H, W); `reversed` uses 767 − idx. */
function fixture(reversed: boolean): Tensor {
  const out = new Float32Array(B * C * H * W);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const idx = ((c * H + h) * W + w) * B + b;
          out[((b * C + c) * H + h) * W + w] = Math.fround((reversed ? 767 - idx : idx) / 768);
        }
  return tensor(out, [B, C, H, W]);
}

export const dummySample = (): Tensor => fixture(false);
export const dummyNoise = (): Tensor => fixture(true);

/** The suite's dummy model: x·t/(t + 1), in float32 as torch computes it. */
export async function dummyModel(x: Tensor, t: number): Promise<Tensor> {
  const tf = Math.fround(t);
  const tp1 = Math.fround(tf + 1);
  const values = await x.data();
  return tensor(
    values.map((v) => Math.fround(v * tf) / tp1),
    x.shape,
    x.backend,
  );
}

export async function sumAbs(x: Tensor): Promise<number> {
  let s = 0;
  for (const v of await x.data()) s += Math.abs(v);
  return s;
}

export async function meanAbs(x: Tensor): Promise<number> {
  return (await sumAbs(x)) / x.size;
}
