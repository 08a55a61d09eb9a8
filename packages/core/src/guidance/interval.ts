import { InvalidArgumentError } from '../errors';
import type { Guidance, GuidanceContext, GuidancePass, PassOutputs } from './guidance';
import { condPassThrough } from './no-guidance';

const COND_ONLY: readonly GuidancePass[] = Object.freeze(['cond']);

export interface GuidanceIntervalOptions {
  /** Lowest timestep guided (inclusive), in the scheduler's timestep units. */
  start: number;
  /** Highest timestep guided (inclusive). */
  end: number;
}

export interface GuidanceInterval extends Guidance {
  readonly inner: Guidance;
  readonly start: number;
  readonly end: number;
  /** Whether `timestep` lies in [start, end], where the inner guidance applies. */
  contains(timestep: number): boolean;
}

/**
 * Applies `inner` only at timesteps in [start, end] (guidance in a limited interval, Kynkäänniemi
 * et al. 2024); elsewhere a step runs the cond pass alone and returns its output.
 */
export function guidanceInterval(inner: Guidance, options: GuidanceIntervalOptions): GuidanceInterval {
  const { start, end } = options;
  if (typeof start !== 'number' || typeof end !== 'number' || Number.isNaN(start) || Number.isNaN(end)) {
    throw new InvalidArgumentError(
      `guidanceInterval: start and end must be numbers, got start ${String(start)}, end ${String(end)}`,
    );
  }
  if (start > end) {
    throw new InvalidArgumentError(
      `guidanceInterval: expected start ≤ end (timesteps in [start, end] are guided), got start ${start}, end ${end}`,
    );
  }
  const name = `guidanceInterval(${inner.name})`;
  const contains = (timestep: number): boolean => timestep >= start && timestep <= end;
  return {
    name,
    inner,
    start,
    end,
    contains,
    passes: (ctx: GuidanceContext) => (contains(ctx.timestep) ? inner.passes(ctx) : COND_ONLY),
    combine: (outputs: PassOutputs, ctx: GuidanceContext) =>
      contains(ctx.timestep) ? inner.combine(outputs, ctx) : condPassThrough(outputs, name),
  };
}
