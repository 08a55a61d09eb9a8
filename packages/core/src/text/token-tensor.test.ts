import { describe, expect, it } from 'vitest';
import type { ValueInfo } from '../backend/model';
import { InvalidArgumentError, ModelSignatureError, ShapeMismatchError } from '../errors';
import { tokenIdsToHostTensor } from './token-tensor';

const rows = [
  [49406, 320, 49407],
  [49406, 0, 49407],
];

const inputIds = (
  dtype: ValueInfo['dtype'],
  shape: ValueInfo['shape'] = ['batch', 'sequence'],
): ValueInfo => ({
  name: 'input_ids',
  dtype,
  shape,
});

describe('tokenIdsToHostTensor', () => {
  it('packs rows into a row-major int64 tensor by default', () => {
    const tensor = tokenIdsToHostTensor(rows);
    expect(tensor.dtype).toBe('int64');
    expect(tensor.shape).toEqual([2, 3]);
    expect(tensor.data).toBeInstanceOf(BigInt64Array);
    expect([...(tensor.data as BigInt64Array)]).toEqual([49406n, 320n, 49407n, 49406n, 0n, 49407n]);
  });

  it('follows the dtype of the model input metadata', () => {
    const int32 = tokenIdsToHostTensor(rows, inputIds('int32', ['batch', 3]));
    expect(int32.dtype).toBe('int32');
    expect(int32.data).toEqual(new Int32Array([49406, 320, 49407, 49406, 0, 49407]));
    expect(tokenIdsToHostTensor(rows, inputIds('int64', [2, 3])).data).toBeInstanceOf(BigInt64Array);
  });

  it('rejects non-integer input dtypes and mismatching fixed dimensions', () => {
    expect(() => tokenIdsToHostTensor(rows, inputIds('float32'))).toThrow(ModelSignatureError);
    expect(() => tokenIdsToHostTensor(rows, inputIds('float32'))).toThrow(
      'model input "input_ids": expected int64 or int32 token ids, got float32',
    );
    expect(() => tokenIdsToHostTensor(rows, inputIds('int64', ['batch', 77]))).toThrow(ShapeMismatchError);
    expect(() => tokenIdsToHostTensor(rows, inputIds('int64', ['batch', 77]))).toThrow(
      'expected shape [batch, 77], got [2, 3]',
    );
    expect(() => tokenIdsToHostTensor(rows, inputIds('int64', [77]))).toThrow(ShapeMismatchError);
  });

  it('rejects ragged rows and ids that are not 32-bit integers', () => {
    expect(() => tokenIdsToHostTensor([[1, 2], [3]])).toThrow(InvalidArgumentError);
    expect(() => tokenIdsToHostTensor([[1, 2], [3]])).toThrow(/row 0 has 2 ids, row 1 has 1/);
    expect(() => tokenIdsToHostTensor([[1, 2.5]], 'int32')).toThrow(/got 2.5 at flat index 1/);
  });

  it('makes an empty batch', () => {
    expect(tokenIdsToHostTensor([], 'int32')).toEqual({
      dtype: 'int32',
      data: new Int32Array(0),
      shape: [0, 0],
    });
  });
});
