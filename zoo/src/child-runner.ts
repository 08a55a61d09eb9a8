import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export interface ChildRun {
  code: number;
  seconds: number;
}

/**
 * Runs long zoo jobs one at a time as child processes. SIGINT/SIGTERM are passed to the running
 * child, which checkpoints and exits (rerunning resumes); `stopping` then tells the caller not to
 * start the next job, and a second signal exits at once.
 */
export class ChildRunner {
  stopping = false;
  #child: ReturnType<typeof spawn> | undefined;

  constructor(log: (message: string) => void) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (this.stopping) process.exit(130);
        this.stopping = true;
        log(`${signal}: letting the running job checkpoint, then stopping (rerun to resume)`);
        this.#child?.kill(signal);
      });
    }
  }

  /** Runs `command args` in `cwd`; output goes to `logFile` (appended) or to this process's. */
  run(
    command: string,
    args: readonly string[],
    options: { cwd?: string; logFile?: string } = {},
  ): Promise<ChildRun> {
    const started = performance.now();
    const out = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    out?.write(`\n$ ${[command, ...args].join(' ')}\n`);
    return new Promise((resolve, reject) => {
      const child = spawn(command, [...args], {
        cwd: options.cwd,
        stdio: ['ignore', out ? 'pipe' : 'inherit', out ? 'pipe' : 'inherit'],
      });
      this.#child = child;
      if (out) {
        child.stdout?.pipe(out, { end: false });
        child.stderr?.pipe(out, { end: false });
      }
      child.on('error', reject);
      child.on('close', (code) => {
        this.#child = undefined;
        out?.end();
        resolve({ code: code ?? 1, seconds: (performance.now() - started) / 1000 });
      });
    });
  }
}
