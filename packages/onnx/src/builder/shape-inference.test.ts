import { describe, expect, it } from 'vitest';
import { broadcastShapes } from './shape-inference';

describe('broadcastShapes', () => {
  it('keeps an unknown dimension unknown instead of treating it as 1', () => {
    expect(broadcastShapes([null, 4], [1, 4], 'add')).toEqual([null, 4]);
    expect(broadcastShapes([null, 4], [3, 4], 'add')).toEqual([3, 4]);
  });

  it('broadcasts missing leading dimensions and symbolic names', () => {
    expect(broadcastShapes([4], ['batch', 2, 4], 'add')).toEqual(['batch', 2, 4]);
    expect(() => broadcastShapes([2, 4], [3, 4], 'add')).toThrow();
  });
});
