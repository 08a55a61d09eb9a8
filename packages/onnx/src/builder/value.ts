import type { DataType } from './data-type';

/** One dimension: a size, a symbolic name shared across the graph ("batch"), or unknown (null). */
export type Dim = number | string | null;

/** A shape as far as the builder can tell; `undefined` when even the rank is unknown. */
export type ValueShape = readonly Dim[] | undefined;

/**
 * A handle to one tensor of the graph being built: a graph input, an initializer, a
 * constant or a node output. Nodes hold handles rather than names, so a value can be
 * renamed (to become a graph output) after it is used.
 */
export class Value {
  #name: string;

  /** @internal Created by a GraphBuilder only. */
  constructor(
    readonly owner: object,
    name: string,
    readonly dtype: DataType,
    readonly shape: ValueShape,
  ) {
    this.#name = name;
  }

  get name(): string {
    return this.#name;
  }

  /** The rank when known. */
  get rank(): number | undefined {
    return this.shape?.length;
  }

  /** Dimension `axis` (negative counts from the end), or null when unknown. */
  dim(axis: number): Dim {
    if (this.shape === undefined) return null;
    const a = axis < 0 ? this.shape.length + axis : axis;
    return this.shape[a] ?? null;
  }

  /** @internal Renaming goes through GraphBuilder.output, which keeps names unique. */
  rename(name: string): void {
    this.#name = name;
  }
}
