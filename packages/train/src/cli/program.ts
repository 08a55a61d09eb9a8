import { AbortError, type BackendSpec, InvalidArgumentError, NoiseRefineError } from '@noiserefine/core';
import type { EngineName } from '@noiserefine/tfjs';
import { Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import { type Condition, parseClassList, readConditionsFile } from '../conditions';
import { MsdTrainer } from '../msd/msd-trainer';
import type { RefinerArchitecture } from '../msd/refiner-network';
import { loadTrainingModel } from '../pipeline-loader';
import { generateTargets } from '../targets/generate-targets';
import { TargetDataset } from '../targets/target-dataset';
import { parseShard } from '../targets/target-format';
import { createProgress } from './progress';

export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Draw progress bars (default: when stderr is a terminal). */
  progress?: boolean;
  /** Aborted on SIGINT/SIGTERM by the bin; tests abort it themselves. */
  signal?: AbortSignal;
  /** Runs the frozen models (default 'onnxruntime-node'). */
  backend?: BackendSpec;
}

const number = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new CommanderArgumentError(`${what}: expected a number, got "${value}"`);
  return n;
};
const integer = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new CommanderArgumentError(`${what}: expected a non-negative integer, got "${value}"`);
  }
  return n;
};
const list = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
/** A list option that may also be repeated: `-t a,b -t c` → [a, b, c]. */
const lists = (value: string, previous: string[] | undefined) => [...(previous ?? []), ...list(value)];

async function conditionsFrom(options: { classes?: string; conditions?: string }): Promise<Condition[]> {
  if (options.classes && options.conditions) {
    throw new InvalidArgumentError('targets: expected --classes or --conditions, got both');
  }
  if (options.classes) return parseClassList(options.classes);
  if (options.conditions) return readConditionsFile(options.conditions);
  throw new InvalidArgumentError(
    'targets: expected --classes (e.g. 0-9) or --conditions <file>, got neither',
  );
}

function formatSeconds(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(0)} ms` : `${seconds.toFixed(2)} s`;
}

/** The noiserefine-train program; `run` resolves to the process exit code. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('noiserefine-train')
    .description('Train NoiseRefine noise refiners: guided targets, then multistep score distillation (MSD).')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  const showBars = io.progress ?? io.stderr.isTTY === true;

  program
    .command('targets')
    .description('Sample guided targets x0_guide from seeded Gaussian noise x_T (resumable, shardable).')
    .argument('<model>', 'pipeline folder (model_index.json: SiT, Stable Diffusion, SDXL)')
    .requiredOption('-o, --out <dir>', 'output folder of the target dataset')
    .option('--classes <list>', 'class labels, e.g. "0-9" or "1,3,5" (SiT)')
    .option('--conditions <file>', 'prompts, one per line, or a JSON array of labels or prompts')
    .requiredOption(
      '-n, --num-samples <n>',
      'samples in the dataset (conditions are cycled)',
      integer('--num-samples'),
    )
    .option('--guidance-scale <w>', 'CFG scale w (on when > 1)', number('--guidance-scale'), 4)
    .option('--pag-scale <s>', 'PAG scale s (on when > 0)', number('--pag-scale'), 0)
    .option(
      '--pag-layers <patterns>',
      'PAG layer patterns, comma separated (default "mid" or "blocks.1")',
      list,
    )
    .option('--steps <n>', "N': guided sampling steps", integer('--steps'), 20)
    .option('--seed <n>', 'seed of the noises', integer('--seed'), 0)
    .option('--chunk-size <n>', 'samples per chunk file', integer('--chunk-size'), 64)
    .option('--batch-size <n>', 'samples per denoiser batch', integer('--batch-size'), 8)
    .option('--shard <i/n>', 'this machine generates chunks k with k mod n = i', '0/1')
    .action(async (modelDir: string, o) => {
      const model = await loadTrainingModel(modelDir, {
        backend: io.backend,
        onWarning: (m) => io.stderr.write(`${m}\n`),
      });
      const progress = createProgress({
        format: 'targets {bar} {value}/{total} samples | {chunks} | ETA {eta_formatted}',
        stream: io.stderr,
        enabled: showBars,
      });
      try {
        const started = performance.now();
        let first = true;
        const result = await generateTargets(model, {
          outputDir: o.out,
          conditions: await conditionsFrom(o),
          numSamples: o.numSamples,
          guidance: {
            guidanceScale: o.guidanceScale,
            pagScale: o.pagScale,
            ...(o.pagLayers ? { pagLayers: o.pagLayers } : {}),
          },
          numInferenceSteps: o.steps,
          seed: o.seed,
          chunkSize: o.chunkSize,
          batchSize: o.batchSize,
          shard: parseShard(o.shard),
          signal: io.signal,
          onProgress: (e) => {
            const payload = {
              chunks: `chunk ${e.chunksDone}/${e.chunksTotal}${e.resumed ? ` (${e.resumed} resumed)` : ''}`,
            };
            if (first) progress.start(e.samplesTotal, e.samplesDone, payload);
            else progress.update(e.samplesDone, payload);
            first = false;
          },
        });
        progress.stop();
        const seconds = (performance.now() - started) / 1000;
        io.stdout.write(
          `targets: ${result.written.length} chunks written, ${result.skipped.length} already there, in ${formatSeconds(seconds)} → ${o.out}\n`,
        );
      } finally {
        progress.stop();
        await model.dispose();
      }
    });

  program
    .command('msd')
    .description('Train a refiner with multistep score distillation on a target dataset; resumes from --out.')
    .argument('<model>', 'the pipeline folder the targets were made with')
    .requiredOption(
      '-t, --targets <dirs>',
      'target dataset folder(s), comma separated or repeated (several: made at different guidance scales)',
      lists,
    )
    .requiredOption('-o, --out <dir>', 'training folder: checkpoint/, validation/, refiner/')
    .addOption(
      new Option('--refiner <kind>', 'refiner network').choices(['lora', 'standalone']).default('lora'),
    )
    .option('--rank <r>', 'LoRA rank', integer('--rank'), 8)
    .option('--alpha <a>', 'LoRA alpha (default: the rank)', number('--alpha'))
    .option('--lora-targets <patterns>', 'LoRA layer patterns, comma separated (default: every layer)', list)
    .option('--hidden-size <n>', 'standalone width', integer('--hidden-size'), 64)
    .option('--depth <n>', 'standalone blocks', integer('--depth'), 2)
    .option('--steps <n>', 'optimizer steps', integer('--steps'), 1000)
    .option('--batch-size <n>', 'batch size', integer('--batch-size'), 8)
    .option(
      '--num-inference-steps <n>',
      'N: steps of the unguided trajectory',
      integer('--num-inference-steps'),
      10,
    )
    .option('--lr <lr>', 'AdamW learning rate', number('--lr'), 1e-4)
    .option('--weight-decay <wd>', 'AdamW weight decay', number('--weight-decay'), 0.01)
    .option('--warmup <n>', 'linear warmup steps before the cosine decay', integer('--warmup'), 0)
    .option('--max-grad-norm <n>', 'gradient clipping (0: off)', number('--max-grad-norm'), 1)
    .option('--seed <n>', 'seed of the refiner init and data order', integer('--seed'), 0)
    .option('--validation-samples <n>', 'held-out targets (the last ones)', integer('--validation-samples'))
    .option(
      '--validate-every <n>',
      'validation loss and PNG grid every n steps (0: at the end)',
      integer('--validate-every'),
      0,
    )
    .option('--checkpoint-every <n>', 'checkpoint every n steps', integer('--checkpoint-every'), 100)
    .addOption(
      new Option('--tfjs-engine <engine>', 'tfjs engine (default: the best installed)').choices([
        'tfjs-node-gpu',
        'tfjs-node',
        'wasm',
        'cpu',
      ]),
    )
    .option(
      '--guidance-conditioned',
      'condition the refiner on the guidance scale (paper App. A.4); needs targets at two or more scales',
    )
    .option(
      '--timestep-embedding <patterns>',
      'with --guidance-conditioned: layer patterns of the timestep embedding the scale is added to',
      list,
    )
    .option('--export <dir>', 'refiner folder to write at the end (default <out>/refiner)')
    .action(async (modelDir: string, o) => {
      if (o.timestepEmbedding && !o.guidanceConditioned) {
        throw new InvalidArgumentError(
          'msd: --timestep-embedding applies to --guidance-conditioned runs only',
        );
      }
      const targets: TargetDataset[] = [];
      for (const dir of o.targets as string[]) targets.push(await TargetDataset.open(dir));
      const { tfjsBackend } = await import('@noiserefine/tfjs');
      const tfjs = await tfjsBackend(o.tfjsEngine ? { engine: o.tfjsEngine as EngineName } : {});
      const model = await loadTrainingModel(modelDir, {
        backend: io.backend,
        onWarning: (m) => io.stderr.write(`${m}\n`),
      });
      const refiner: RefinerArchitecture =
        o.refiner === 'standalone'
          ? { kind: 'standalone', hiddenSize: o.hiddenSize, depth: o.depth }
          : {
              kind: 'lora',
              rank: o.rank,
              ...(o.alpha === undefined ? {} : { alpha: o.alpha }),
              ...(o.loraTargets ? { targets: o.loraTargets } : {}),
            };
      let trainer: MsdTrainer;
      try {
        trainer = await MsdTrainer.create(model, targets, tfjs, {
          outputDir: o.out,
          refiner,
          maxSteps: o.steps,
          numInferenceSteps: o.numInferenceSteps,
          batchSize: o.batchSize,
          learningRate: o.lr,
          weightDecay: o.weightDecay,
          warmupSteps: o.warmup,
          maxGradNorm: o.maxGradNorm,
          seed: o.seed,
          ...(o.validationSamples === undefined ? {} : { validationSamples: o.validationSamples }),
          validateEvery: o.validateEvery,
          checkpointEvery: o.checkpointEvery,
          ...(o.guidanceConditioned
            ? {
                guidanceConditioned: true,
                ...(o.timestepEmbedding ? { guidanceEmbedding: { patterns: o.timestepEmbedding } } : {}),
              }
            : {}),
        });
      } catch (error) {
        await model.dispose();
        throw error;
      }
      const progress = createProgress({
        format: 'msd {bar} {value}/{total} steps | loss {loss} | lr {lr} | {rate} | ETA {eta_formatted}',
        stream: io.stderr,
        enabled: showBars,
      });
      io.stdout.write(
        `msd: ${model.family} "${model.baseModel}", ${refiner.kind} refiner${o.guidanceConditioned ? ` conditioned on guidance scales ${trainer.dataset.guidanceScales.join(', ')}` : ''}, tfjs on ${tfjs.engineReport.engine}${trainer.step > 0 ? `, resuming at step ${trainer.step}` : ''}\n`,
      );
      progress.start(o.steps, trainer.step, { loss: '-', lr: '-', rate: '-' });
      try {
        const result = await trainer.train({
          signal: io.signal,
          onStep: (r) =>
            progress.update(r.step, {
              loss: r.loss.toExponential(3),
              lr: r.learningRate.toExponential(2),
              rate: `${formatSeconds(r.seconds)}/step`,
            }),
          onValidation: (v) =>
            progress.log(
              `step ${v.step}: validation loss ${v.loss.toExponential(3)} (unrefined ${v.baselineLoss.toExponential(3)})${v.image ? ` → ${v.image}` : ''}`,
            ),
        });
        progress.stop();
        if (result.interrupted) {
          io.stdout.write(
            `msd: interrupted at step ${result.step}; checkpoint saved, rerun the same command to resume\n`,
          );
          throw new AbortError(`training interrupted at step ${result.step}`);
        }
        const exported = o.export ?? `${o.out}/refiner`;
        await trainer.exportRefiner(exported);
        io.stdout.write(`msd: trained ${result.step} steps; refiner written to ${exported}\n`);
      } finally {
        progress.stop();
        await trainer.dispose();
        await model.dispose();
      }
    });
  return program;
}

/** Runs the CLI on `argv` (without node and the script); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    const e = error as { code?: string; exitCode?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : (e.exitCode ?? 1);
    }
    if (error instanceof AbortError || (NoiseRefineError.isInstance(error) && error.name === 'AbortError')) {
      io.stderr.write(`${e.message}\n`);
      return 130;
    }
    io.stderr.write(
      `noiserefine-train: ${NoiseRefineError.isInstance(error) ? `${error.name}: ` : ''}${e.message ?? String(error)}\n`,
    );
    return 1;
  }
}
