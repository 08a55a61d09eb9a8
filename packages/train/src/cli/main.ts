#!/usr/bin/env node
import { runCli } from './program';

// First signal: finish the step in flight, save a checkpoint, exit 130. A second one exits at once.
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${signal}: stopping after the current step (send again to exit at once)\n`);
    controller.abort(new Error(signal));
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
