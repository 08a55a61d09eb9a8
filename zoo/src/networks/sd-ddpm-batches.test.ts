import { describe, expect, it } from 'vitest';
import { type CaptionConditioning, DDPMBatches, type DDPMBatchesOptions } from './sd-ddpm-batches';
import { familyAlphasCumprod } from './sd-trainer';
import { TINY_SD21 } from './sd-families';

const COUNT = 40;
const SAMPLE = 8;
const SEQ = 3;
const DIM = 2;

/** Row r of the table is filled with r + 1 (the empty row with −1), so a batch tells which row it drew. */
function conditioning(): CaptionConditioning {
  const rows = 5;
  const hidden = new Float32Array((rows + 1) * SEQ * DIM);
  for (let r = 0; r <= rows; r++) hidden.fill(r === rows ? -1 : r + 1, r * SEQ * DIM, (r + 1) * SEQ * DIM);
  const pooled = Float32Array.from({ length: (rows + 1) * 2 }, (_, i) =>
    Math.floor(i / 2) === rows ? -1 : Math.floor(i / 2) + 1,
  );
  return {
    hidden,
    seq: SEQ,
    dim: DIM,
    pooled,
    pooledDim: 2,
    rowOf: Int32Array.from({ length: COUNT }, (_, i) => i % rows),
    emptyRow: rows,
  };
}

function options(overrides: Partial<DDPMBatchesOptions> = {}): DDPMBatchesOptions {
  return {
    latents: Float32Array.from({ length: COUNT * SAMPLE }, (_, i) => Math.sin(i)),
    sampleSize: SAMPLE,
    conditioning: conditioning(),
    batchSize: 16,
    captionDropout: 0.25,
    predictionType: 'epsilon',
    alphasCumprod: familyAlphasCumprod(TINY_SD21),
    seed: 3,
    ...overrides,
  };
}

describe('DDPMBatches', () => {
  it('gives the same batch for the same (seed, step), whatever was asked before', () => {
    const a = new DDPMBatches(options());
    const b = new DDPMBatches(options());
    const late = a.batch(7);
    for (let s = 0; s < 7; s++) b.batch(s);
    expect(b.batch(7)).toEqual(late);
    expect(new DDPMBatches(options({ seed: 4 })).batch(7).noisy).not.toEqual(late.noisy);
  });

  it('visits every sample once per epoch', () => {
    const batches = new DDPMBatches(options({ batchSize: 8 }));
    const seen = [0, 1, 2, 3, 4].flatMap((s) => Array.from(batches.batch(s).indices));
    expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: COUNT }, (_, i) => i));
  });

  it('noises x0 to √ᾱ·x0 + √(1 − ᾱ)·ε and regresses ε, or v = √ᾱ·ε − √(1 − ᾱ)·x0', () => {
    const o = options();
    const eps = new DDPMBatches(o).batch(2);
    const v = new DDPMBatches({ ...o, predictionType: 'v_prediction' }).batch(2);
    expect(v.noisy).toEqual(eps.noisy);
    for (let i = 0; i < 16; i++) {
      const t = eps.timesteps[i] as number;
      expect(t).toBeGreaterThanOrEqual(0);
      expect(t).toBeLessThan(1000);
      const abar = o.alphasCumprod[t] as number;
      for (let k = 0; k < SAMPLE; k++) {
        const x0 = o.latents[(eps.indices[i] as number) * SAMPLE + k] as number;
        const e = eps.target[i * SAMPLE + k] as number;
        expect(eps.noisy[i * SAMPLE + k]).toBeCloseTo(Math.sqrt(abar) * x0 + Math.sqrt(1 - abar) * e, 5);
        expect(v.target[i * SAMPLE + k]).toBeCloseTo(Math.sqrt(abar) * e - Math.sqrt(1 - abar) * x0, 5);
      }
    }
  });

  it("conditions on each sample's caption row and drops captions to the empty row at the given rate", () => {
    const batches = new DDPMBatches(options({ batchSize: 40 }));
    let dropped = 0;
    for (let s = 0; s < 10; s++) {
      const batch = batches.batch(s);
      batch.indices.forEach((index, i) => {
        const value = batch.context[i * SEQ * DIM] as number;
        if (value === -1) dropped++;
        else expect(value).toBe((index % 5) + 1);
        expect(batch.pooled?.[i * 2]).toBe(value);
      });
    }
    expect(dropped / 400).toBeGreaterThan(0.17);
    expect(dropped / 400).toBeLessThan(0.33);
  });

  it('rejects caption rows outside the table', () => {
    const c = conditioning();
    expect(() => new DDPMBatches(options({ conditioning: { ...c, rowOf: c.rowOf.map(() => 9) } }))).toThrow(
      /caption rows/,
    );
  });
});
