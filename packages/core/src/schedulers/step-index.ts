import { InvalidArgumentError } from '../errors';

/**
 * The position of the next step() in the timestep list, kept the way diffusers'
 * sigma-space schedulers keep it: found from the first timestep seen (or set with
 * setBeginIndex, for img2img-style starts), then advanced by one per step().
 */
export class StepIndex {
  #current: number | null = null;
  #begin: number | null = null;

  /** Index of the next step, or null before the first step of a schedule. */
  get current(): number | null {
    return this.#current;
  }

  get begin(): number | null {
    return this.#begin;
  }

  /** Forget the position (a new schedule was set). */
  reset(): void {
    this.#current = null;
    this.#begin = null;
  }

  /** Start the next loop at `index` instead of looking the first timestep up. */
  setBegin(index: number): void {
    this.#begin = index;
  }

  /** The index the next step() uses, without committing to it. */
  peek(timestep: number, timesteps: readonly number[], owner: string): number {
    return this.#current ?? this.#begin ?? indexForTimestep(timestep, timesteps, owner);
  }

  /** The index the next step() uses, committing to it. */
  resolve(timestep: number, timesteps: readonly number[], owner: string): number {
    this.#current = this.peek(timestep, timesteps, owner);
    return this.#current;
  }

  /**
   * The index addNoise uses: looked up from the timestep, unless a begin index was set
   * (then the current step, or the begin index before the first step).
   */
  forNoise(timestep: number, timesteps: readonly number[], owner: string): number {
    if (this.#begin === null) return indexForTimestep(timestep, timesteps, owner);
    return this.#current ?? this.#begin;
  }

  advance(): void {
    if (this.#current !== null) this.#current += 1;
  }

  copyFrom(other: StepIndex): void {
    this.#current = other.#current;
    this.#begin = other.#begin;
  }
}

/**
 * Where `timestep` sits in `timesteps`. When it occurs more than once (Heun's doubled
 * timesteps) the second occurrence is taken, as diffusers does, so that starting a loop
 * part-way (img2img) never skips a step.
 */
export function indexForTimestep(timestep: number, timesteps: readonly number[], owner: string): number {
  const wanted = Math.fround(timestep);
  const hits: number[] = [];
  timesteps.forEach((t, i) => {
    if (t === timestep || t === wanted) hits.push(i);
  });
  const index = hits.length > 1 ? hits[1] : hits[0];
  if (index === undefined) {
    const shown = timesteps.length > 12 ? `${timesteps.slice(0, 12).join(', ')}, …` : timesteps.join(', ');
    throw new InvalidArgumentError(
      `${owner}: timestep ${timestep} is not in the current schedule [${shown}]; pass one of scheduler.timesteps (after setTimesteps)`,
    );
  }
  return index;
}
