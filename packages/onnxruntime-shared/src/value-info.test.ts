import { UnsupportedCapabilityError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { toDim, toValueInfo } from './value-info';

describe('toDim', () => {
  it('maps both runtimes’ unknown dimensions to null and applies overrides', () => {
    expect(toDim(4, {})).toBe(4);
    expect(toDim('', {})).toBeNull();
    expect(toDim(4294967295, {})).toBeNull();
    expect(toDim(-1, {})).toBeNull();
    expect(toDim('batch', {})).toBe('batch');
    expect(toDim('batch', { batch: 2 })).toBe(2);
  });
});

describe('toValueInfo', () => {
  it('rejects values core cannot describe, naming them', () => {
    expect(() => toValueInfo({ name: 'seq', isTensor: false }, 'output', 'm.onnx')).toThrow(
      new UnsupportedCapabilityError(
        'model "m.onnx": output "seq" is not a tensor (a sequence or map); only tensor inputs and outputs are supported',
      ),
    );
    expect(() =>
      toValueInfo({ name: 'q', isTensor: true, type: 'uint16', shape: [1] }, 'input', 'm.onnx'),
    ).toThrow(/input "q" has element type uint16; supported: float32, float16/);
  });
});
