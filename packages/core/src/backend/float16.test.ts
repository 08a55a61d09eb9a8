import { describe, expect, it } from 'vitest';
import { float16BitsToFloat32, float32ToFloat16Bits } from './float16';

describe('float16 conversion', () => {
  it('encodes known values exactly', () => {
    const bits = float32ToFloat16Bits([0, -0, 1, -2, 0.5, 65504, 1e6, 2 ** -24, Number.NaN]);
    expect(Array.from(bits.subarray(0, 8))).toEqual([
      0, 0x8000, 0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00, 0x0001,
    ]);
    expect((bits[8] as number) & 0x7c00).toBe(0x7c00);
  });

  it('round-trips every finite float16 bit pattern', () => {
    const all = Uint16Array.from({ length: 0x7c00 }, (_, i) => i);
    const back = float32ToFloat16Bits(float16BitsToFloat32(all));
    expect(Array.from(back)).toEqual(Array.from(all));
  });

  it('rounds to nearest with ties to even', () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties to the even mantissa (1).
    expect(float32ToFloat16Bits([1 + 2 ** -11])[0]).toBe(0x3c00);
    expect(float32ToFloat16Bits([1 + 3 * 2 ** -11])[0]).toBe(0x3c02);
  });
});
