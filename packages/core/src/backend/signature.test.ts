import { describe, expect, it } from 'vitest';
import { DisposedTensorError, ModelSignatureError } from '../errors';
import { tensor, zeros } from '../tensor/index';
import type { HostTensor, ValueInfo } from './model';
import {
  formatSignature,
  isFeedAccepted,
  isHostTensor,
  validateFeeds,
  validateOutputNames,
} from './signature';

const UNET_INPUTS: ValueInfo[] = [
  { name: 'sample', dtype: 'float16', shape: ['batch', 4, 'height', 'width'] },
  { name: 'timestep', dtype: 'int64', shape: ['batch'] },
  { name: 'encoder_hidden_states', dtype: 'float16', shape: ['batch', 77, 768] },
];

const int64 = (values: number[]): HostTensor => ({
  dtype: 'int64',
  data: BigInt64Array.from(values.map(BigInt)),
  shape: [values.length],
});

function signatureError(run: () => unknown): ModelSignatureError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelSignatureError);
    return error as ModelSignatureError;
  }
  throw new Error('expected a ModelSignatureError');
}

describe('validateFeeds', () => {
  it('accepts matching feeds and returns the symbolic dimensions they bind', () => {
    const dims = validateFeeds(UNET_INPUTS, {
      sample: zeros([2, 4, 8, 8]),
      timestep: int64([10, 10]),
      encoder_hidden_states: zeros([2, 77, 768]),
    });
    expect(dims).toEqual({ batch: 2, height: 8, width: 8 });
  });

  it('lists every problem, then the expected and given signatures', () => {
    const error = signatureError(() =>
      validateFeeds(
        UNET_INPUTS,
        { sample: zeros([2, 3, 8, 8]), text: int64([1]), encoder_hidden_states: zeros([1, 77, 768]) },
        { model: 'unet/model.onnx' },
      ),
    );
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('model "unet/model.onnx": inputs do not match its signature:');
    expect(error.message).toContain('unknown input "text"');
    expect(error.message).toContain('missing input "timestep"');
    expect(error.message).toContain(
      'input "sample": expected shape [batch, 4, height, width], got [2, 3, 8, 8]',
    );
    expect(error.message).toContain(
      'dimension "batch" is 2 in input "sample" but 1 in input "encoder_hidden_states"',
    );
    expect(lines.at(-2)).toBe(
      'expected: sample: float16 [batch, 4, height, width], timestep: int64 [batch], encoder_hidden_states: float16 [batch, 77, 768]',
    );
    expect(lines.at(-1)).toBe(
      'given:    sample: float32 [2, 3, 8, 8], text: int64 [1], encoder_hidden_states: float32 [1, 77, 768]',
    );
  });

  it('asks for a HostTensor when a float Tensor is given for an integer input', () => {
    const error = signatureError(() =>
      validateFeeds([{ name: 'timestep', dtype: 'int64', shape: [1] }], { timestep: tensor([3], [1]) }),
    );
    expect(error.message).toContain(
      'input "timestep": expected int64, got a float32 Tensor (pass a HostTensor for non-float inputs)',
    );
  });

  it('rejects a HostTensor whose data does not fill its shape', () => {
    const bad: HostTensor = { dtype: 'int64', data: new BigInt64Array(3), shape: [2, 2] };
    const error = signatureError(() =>
      validateFeeds([{ name: 'ids', dtype: 'int64', shape: [2, 2] }], { ids: bad }),
    );
    expect(error.message).toContain('input "ids": data has 3 elements, shape [2, 2] needs 4');
  });

  it('checks fixed dimensions and ranks, leaves unknown dimensions and empty shapes open', () => {
    const inputs: ValueInfo[] = [
      { name: 'x', dtype: 'float32', shape: [null, 3] },
      { name: 't', dtype: 'float32', shape: [] },
    ];
    expect(validateFeeds(inputs, { x: zeros([5, 3]), t: zeros([1]) })).toEqual({});
    expect(
      signatureError(() => validateFeeds(inputs, { x: zeros([5, 3, 1]), t: zeros([]) })).message,
    ).toContain('input "x": expected shape [?, 3], got [5, 3, 1]');
  });

  it('throws DisposedTensorError for a disposed feed', () => {
    const x = zeros([1, 3]);
    x.dispose();
    expect(() => validateFeeds([{ name: 'x', dtype: 'float32', shape: [1, 3] }], { x })).toThrow(
      DisposedTensorError,
    );
  });
});

describe('isFeedAccepted', () => {
  it('converts among floats and widens int32 host data to int64 only', () => {
    expect(isFeedAccepted('float16', { dtype: 'float32', kind: 'tensor' })).toBe(true);
    expect(isFeedAccepted('float64', { dtype: 'float16', kind: 'host' })).toBe(true);
    expect(isFeedAccepted('int64', { dtype: 'int32', kind: 'host' })).toBe(true);
    expect(isFeedAccepted('int32', { dtype: 'int64', kind: 'host' })).toBe(false);
    expect(isFeedAccepted('int64', { dtype: 'float32', kind: 'tensor' })).toBe(false);
    expect(isFeedAccepted('bool', { dtype: 'uint8', kind: 'host' })).toBe(false);
  });
});

describe('validateOutputNames', () => {
  it('names the unknown outputs and lists the real ones', () => {
    const outputs: ValueInfo[] = [{ name: 'out_sample', dtype: 'float32', shape: ['batch', 4, 8, 8] }];
    expect(() => validateOutputNames(outputs, ['out_sample'])).not.toThrow();
    expect(() => validateOutputNames(outputs, ['sample', 'noise'], { model: 'unet' })).toThrow(
      'model "unet": unknown outputs "sample", "noise"; the model\'s outputs are: out_sample: float32 [batch, 4, 8, 8]',
    );
  });
});

describe('helpers', () => {
  it('tells HostTensors from core Tensors', () => {
    expect(isHostTensor(int64([1]))).toBe(true);
    expect(isHostTensor(zeros([1]))).toBe(false);
  });

  it('formats an empty signature', () => {
    expect(formatSignature([])).toBe('(none)');
  });
});
