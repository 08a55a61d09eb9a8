import cliProgress from 'cli-progress';

/** A progress bar with a free-text line above it, or plain lines when the output is not a terminal. */
export interface Progress {
  start(total: number, value: number, payload?: Record<string, string>): void;
  update(value: number, payload?: Record<string, string>): void;
  log(line: string): void;
  stop(): void;
}

export function createProgress(options: {
  format: string;
  stream: NodeJS.WriteStream;
  enabled: boolean;
}): Progress {
  if (!options.enabled) {
    return {
      start: () => {},
      update: () => {},
      log: (line) => options.stream.write(`${line}\n`),
      stop: () => {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: options.format,
      stream: options.stream,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  return {
    start: (total, value, payload) => {
      bar = multi.create(total, value, payload ?? {});
    },
    update: (value, payload) => bar?.update(value, payload ?? {}),
    log: (line) => multi.log(`${line}\n`),
    stop: () => multi.stop(),
  };
}
