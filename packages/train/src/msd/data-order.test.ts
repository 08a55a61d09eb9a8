import { InvalidArgumentError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { DataOrder, epochPermutation } from './data-order';

describe('DataOrder', () => {
  const indices = Array.from({ length: 10 }, (_, i) => i);

  it('shuffles each epoch by (seed, epoch), visiting every sample once per epoch', () => {
    const a = epochPermutation(indices, 1, 0);
    expect([...a].sort((x, y) => x - y)).toEqual(indices);
    expect(epochPermutation(indices, 1, 0)).toEqual(a);
    expect(epochPermutation(indices, 1, 1)).not.toEqual(a);
    expect(epochPermutation(indices, 2, 0)).not.toEqual(a);
  });

  it('continues across epochs, and a stream rebuilt from its cursor goes on identically', () => {
    const stream = new DataOrder(indices, 4);
    const first = [stream.nextBatch(4), stream.nextBatch(4), stream.nextBatch(4)];
    expect(
      first
        .flat()
        .slice(0, 10)
        .sort((x, y) => x - y),
    ).toEqual(indices);
    expect(stream.cursor).toEqual({ epoch: 1, position: 2 });
    const copy = new DataOrder(indices, 4, stream.cursor);
    expect(copy.nextBatch(7)).toEqual(stream.nextBatch(7));
    expect(() => new DataOrder(indices, 4, { epoch: 0, position: 11 })).toThrow(InvalidArgumentError);
    expect(() => new DataOrder([], 4)).toThrow(/at least one sample/);
  });
});
