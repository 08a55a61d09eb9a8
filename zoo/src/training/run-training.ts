import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GraphTrainer } from './graph-trainer';
import { formatDuration, type TrainingClock } from './training-clock';

export interface RunTrainingOptions<Batch> {
  trainer: GraphTrainer<Batch>;
  clock: TrainingClock;
  totalSteps: number;
  logEvery: number;
  checkpointEvery: number;
  /** Held-out batches for the EMA eval loss logged at each checkpoint. */
  evalBatches: readonly Batch[];
  /** Writes a checkpoint (atomically) with the clock's metadata. */
  save(): Promise<void>;
  log(message: string): void;
}

/**
 * The zoo trainings' main loop: steps until done or until SIGINT/SIGTERM asks to stop,
 * logging loss and ETA, with an evaluated checkpoint every `checkpointEvery` steps and a
 * last one on the way out, so rerunning the same command resumes exactly.
 * Returns whether the run reached its last step.
 */
export async function runTraining<Batch>(options: RunTrainingOptions<Batch>): Promise<boolean> {
  const { trainer, clock, totalSteps, log } = options;
  let stopRequested = false;
  const requestStop = (signal: string) => {
    if (stopRequested) process.exit(130); // a second signal: give up without saving
    stopRequested = true;
    log(`${signal}: saving a checkpoint after the current step`);
  };
  const onSigint = () => requestStop('SIGINT');
  const onSigterm = () => requestStop('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  try {
    clock.start(trainer.step);
    while (!trainer.done && !stopRequested) {
      const { step, loss, learningRate } = await trainer.trainStep();
      // The wasm engine resolves its reads at once; yield so a pending signal gets handled.
      await new Promise((resolve) => setImmediate(resolve));
      clock.record(step + 1, loss);
      if ((step + 1) % options.logEvery === 0 || step === 0) {
        log(
          `step ${step + 1}/${totalSteps} loss ${loss.toFixed(4)} (avg ${clock.lossAverage.toFixed(4)}) ` +
            `lr ${learningRate.toExponential(2)} ${clock.secondsPerStep.toFixed(2)} s/step ` +
            `ETA ${formatDuration(clock.secondsPerStep * (totalSteps - step - 1))}`,
        );
      }
      if ((step + 1) % options.checkpointEvery === 0 && !trainer.done) {
        const evalLoss = await trainer.evaluate(options.evalBatches, 'ema');
        clock.recordEvaluation(step + 1, evalLoss);
        await options.save();
        log(`checkpoint at step ${step + 1}: eval loss (EMA weights) ${evalLoss.toFixed(4)}`);
      }
    }
    await options.save();
    if (!trainer.done) log(`stopped at step ${trainer.step}; rerun the same command to resume`);
    return trainer.done;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}

export interface StartRunOptions<Batch> {
  trainer: GraphTrainer<Batch>;
  clock: TrainingClock;
  checkpointDir: string;
  /** The command of this invocation; a resumed run keeps the one that started it. */
  command: string;
  /** Checkpoint folder of an earlier run whose weights a new run starts from. */
  initFrom?: string | undefined;
  log(message: string): void;
}

export interface StartedRun<Batch> {
  /** The command that started the run. */
  command: string;
  /** The earlier run a new run took its weights from, recorded in checkpoints and exports. */
  initialisedFrom?: { checkpoint: string; steps: number; command?: string };
  /** Writes a checkpoint (atomically) with the run's metadata. */
  save(): Promise<void>;
  /** runTraining with this run's trainer, clock, checkpoints and log; whether it reached the end. */
  train(
    options: Pick<RunTrainingOptions<Batch>, 'totalSteps' | 'logEvery' | 'checkpointEvery' | 'evalBatches'>,
  ): Promise<boolean>;
}

/**
 * Resumes the run in `checkpointDir` when it has a checkpoint, else starts a new one, from
 * another run's weights when `initFrom` is given (to train a finished model longer).
 */
export async function startRun<Batch>(options: StartRunOptions<Batch>): Promise<StartedRun<Batch>> {
  const { trainer, clock, checkpointDir, log } = options;
  let command = options.command;
  let initialisedFrom: StartedRun<Batch>['initialisedFrom'];
  if (existsSync(join(checkpointDir, 'checkpoint.json'))) {
    const { step, metadata } = await trainer.loadCheckpoint(checkpointDir);
    clock.restore(metadata);
    if (typeof metadata?.command === 'string') command = metadata.command;
    if (metadata?.initialisedFrom)
      initialisedFrom = metadata.initialisedFrom as StartedRun<Batch>['initialisedFrom'];
    log(
      `resumed from ${checkpointDir} at step ${step} (${formatDuration(clock.elapsedSeconds)} trained so far)`,
    );
  } else if (options.initFrom !== undefined) {
    const { step, metadata } = await trainer.initFrom(options.initFrom);
    const earlier = typeof metadata?.command === 'string' ? metadata.command : undefined;
    initialisedFrom = { checkpoint: options.initFrom, steps: step, ...(earlier ? { command: earlier } : {}) };
    log(
      `starting a new run from the weights of ${options.initFrom} (step ${step}); checkpoints go to ${checkpointDir}`,
    );
  } else {
    log(`starting a new run; checkpoints go to ${checkpointDir}`);
  }
  const save = () =>
    trainer.saveCheckpoint(checkpointDir, {
      ...clock.toMetadata(),
      command,
      ...(initialisedFrom ? { initialisedFrom } : {}),
    });
  return {
    command,
    ...(initialisedFrom ? { initialisedFrom } : {}),
    save,
    train: (settings) => runTraining({ ...settings, trainer, clock, save, log }),
  };
}
