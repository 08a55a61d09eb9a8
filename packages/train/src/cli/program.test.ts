import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoiseRefiner } from '@noiserefine/core';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinySiTFolder } from '../test-support/sit-folder';
import { runCli } from './program';

let root: string;
let modelDir: string;

/** Collects what the CLI writes. */
function capture() {
  const chunks: string[] = [];
  const stream = { write: (s: string) => chunks.push(s) > 0, isTTY: false } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join('') };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'noiserefine-cli-'));
  modelDir = await writeTinySiTFolder(join(root, 'tiny-sit'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('noiserefine-train', () => {
  it('generates targets on two shards, trains with MSD, validates and exports a loadable refiner', async () => {
    const targets = join(root, 'targets');
    for (const shard of ['0/2', '1/2']) {
      const out = capture();
      const code = await runCli(
        [
          'targets',
          modelDir,
          '--out',
          targets,
          '--classes',
          '0-9',
          '-n',
          '12',
          '--steps',
          '6',
          '--chunk-size',
          '4',
          '--shard',
          shard,
        ],
        { stdout: out.stream, stderr: out.stream },
      );
      expect(code, out.text()).toBe(0);
    }
    expect((await readdir(targets)).filter((f) => f.endsWith('.json')).sort()).toEqual([
      'chunk-00000.json',
      'chunk-00001.json',
      'chunk-00002.json',
      'manifest.json',
    ]);

    const run = join(root, 'run');
    const out = capture();
    const code = await runCli(
      [
        'msd',
        modelDir,
        '--targets',
        targets,
        '--out',
        run,
        '--rank',
        '2',
        '--steps',
        '2',
        '--batch-size',
        '4',
        '--num-inference-steps',
        '3',
        '--validation-samples',
        '2',
        '--lr',
        '1e-3',
        '--tfjs-engine',
        'wasm',
      ],
      { stdout: out.stream, stderr: out.stream },
    );
    expect(code, out.text()).toBe(0);
    expect(out.text()).toMatch(/step 2: validation loss .* \(unrefined .*\)/);
    expect(out.text()).toMatch(/refiner written to/);

    const grid = PNG.sync.read(Buffer.from(await readFile(join(run, 'validation', 'step-000002.png'))));
    // Rows: unrefined, refined, guided target; 2 held-out samples of 8×8 decoded pixels.
    expect([grid.width, grid.height]).toEqual([2 * (8 + 2) + 2, 3 * (8 + 2) + 2]);
    const refiner = await NoiseRefiner.fromPretrained(join(run, 'refiner'), { backend: onnxruntimeNode() });
    expect(refiner.metadata).toMatchObject({
      family: 'sit',
      baseModel: 'tiny-sit',
      kind: 'lora',
      timestep: 0,
    });
    await refiner.dispose();

    // Rerunning a finished training resumes at its last step and only exports again.
    const again = capture();
    expect(
      await runCli(
        [
          'msd',
          modelDir,
          '-t',
          targets,
          '-o',
          run,
          '--rank',
          '2',
          '--steps',
          '2',
          '--batch-size',
          '4',
          '--num-inference-steps',
          '3',
          '--validation-samples',
          '2',
          '--lr',
          '1e-3',
          '--tfjs-engine',
          'wasm',
        ],
        { stdout: again.stream, stderr: again.stream },
      ),
    ).toBe(0);
    expect(again.text()).toMatch(/resuming at step 2/);
  });

  it('reports bad arguments with a typed message and a non-zero exit code', async () => {
    const out = capture();
    const code = await runCli(['targets', modelDir, '--out', join(root, 'x'), '-n', '4'], {
      stdout: out.stream,
      stderr: out.stream,
    });
    expect(code).toBe(1);
    expect(out.text()).toMatch(
      /InvalidArgumentError: targets: expected --classes \(e\.g\. 0-9\) or --conditions/,
    );
    const missing = capture();
    expect(await runCli(['msd', modelDir], { stdout: missing.stream, stderr: missing.stream })).toBe(1);
    expect(missing.text()).toMatch(/required option '-t, --targets <dir>' not specified/);
  });
});
