/** One evaluation of a run: the step and the loss on the fixed evaluation batches. */
export interface EvaluationRecord {
  step: number;
  loss: number;
}

/** What a checkpoint keeps of the clock, so time and history add up across resumes. */
export interface ClockMetadata {
  elapsedSeconds: number;
  lossAverage: number;
  evaluations: EvaluationRecord[];
}

/** Smoothing of the displayed training loss (≈ the last 50 steps). */
const LOSS_SMOOTHING = 0.98;

/**
 * Wall time, speed and a smoothed loss of a training run that may be stopped and resumed:
 * time trained in earlier sessions comes back from the checkpoint's metadata.
 */
export class TrainingClock {
  #previousSeconds = 0;
  #sessionStart = 0;
  #sessionFirstStep = 0;
  #lastStep = 0;
  #lossAverage = Number.NaN;
  #evaluations: EvaluationRecord[] = [];
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now() / 1000) {
    this.#now = now;
  }

  restore(metadata: Record<string, unknown> | undefined): void {
    const m = (metadata ?? {}) as Partial<ClockMetadata>;
    this.#previousSeconds = typeof m.elapsedSeconds === 'number' ? m.elapsedSeconds : 0;
    this.#lossAverage = typeof m.lossAverage === 'number' ? m.lossAverage : Number.NaN;
    this.#evaluations = Array.isArray(m.evaluations) ? [...m.evaluations] : [];
  }

  /** Starts timing this session at `step`. */
  start(step: number): void {
    this.#sessionStart = this.#now();
    this.#sessionFirstStep = step;
    this.#lastStep = step;
  }

  /** Records that training reached `step` (steps done) with this step's loss. */
  record(step: number, loss: number): void {
    this.#lastStep = step;
    this.#lossAverage = Number.isNaN(this.#lossAverage)
      ? loss
      : LOSS_SMOOTHING * this.#lossAverage + (1 - LOSS_SMOOTHING) * loss;
  }

  recordEvaluation(step: number, loss: number): void {
    this.#evaluations.push({ step, loss });
  }

  get sessionSeconds(): number {
    return this.#sessionStart === 0 ? 0 : this.#now() - this.#sessionStart;
  }

  /** Training time of all sessions so far. */
  get elapsedSeconds(): number {
    return this.#previousSeconds + this.sessionSeconds;
  }

  /** Mean seconds per step in this session (0 before the first step). */
  get secondsPerStep(): number {
    const steps = this.#lastStep - this.#sessionFirstStep;
    return steps > 0 ? this.sessionSeconds / steps : 0;
  }

  get lossAverage(): number {
    return this.#lossAverage;
  }

  get evaluations(): readonly EvaluationRecord[] {
    return this.#evaluations;
  }

  toMetadata(): ClockMetadata {
    return {
      elapsedSeconds: this.elapsedSeconds,
      lossAverage: this.#lossAverage,
      evaluations: [...this.#evaluations],
    };
  }
}

/** "1 h 02 min", "3 min 05 s", "42 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(rest).padStart(2, '0')} s`;
  return `${rest} s`;
}
