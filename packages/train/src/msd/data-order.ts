import { Generator, InvalidArgumentError } from '@noiserefine/core';
import { derivedSeed } from '../seeds';

/** Where the sample stream stands: the state a checkpoint needs to continue it exactly. */
export interface DataCursor {
  epoch: number;
  /** Samples of this epoch already handed out. */
  position: number;
}

/**
 * The epoch's shuffled order of `indices`: Fisher-Yates driven by the stream of
 * derivedSeed(seed, epoch), so any epoch's order is recomputed from the pair alone.
 */
export function epochPermutation(indices: readonly number[], seed: number, epoch: number): number[] {
  const order = [...indices];
  const uniforms = new Generator(derivedSeed(seed, epoch)).randValues(order.length);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor((uniforms[i] as number) * (i + 1)));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

/**
 * An endless stream of training batches over `indices`, reshuffled every epoch; a batch that
 * reaches the end of an epoch continues into the next one. Its whole state is the cursor.
 */
export class DataOrder {
  #cursor: DataCursor;
  #order: number[];

  constructor(
    readonly indices: readonly number[],
    readonly seed: number,
    cursor: DataCursor = { epoch: 0, position: 0 },
  ) {
    if (indices.length === 0)
      throw new InvalidArgumentError('training data: expected at least one sample, got none');
    if (!(cursor.position >= 0 && cursor.position <= indices.length) || !(cursor.epoch >= 0)) {
      throw new InvalidArgumentError(
        `training data cursor: expected epoch ≥ 0 and position in [0, ${indices.length}], got ${JSON.stringify(cursor)}`,
      );
    }
    this.#cursor = { ...cursor };
    this.#order = epochPermutation(indices, seed, cursor.epoch);
  }

  get cursor(): DataCursor {
    return { ...this.#cursor };
  }

  nextBatch(size: number): number[] {
    const batch: number[] = [];
    while (batch.length < size) {
      if (this.#cursor.position >= this.#order.length) {
        this.#cursor = { epoch: this.#cursor.epoch + 1, position: 0 };
        this.#order = epochPermutation(this.indices, this.seed, this.#cursor.epoch);
      }
      batch.push(this.#order[this.#cursor.position] as number);
      this.#cursor.position++;
    }
    return batch;
  }
}
