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

  it('trains a guidance-conditioned refiner on target folders at two scales', async () => {
    const atFour = join(root, 'targets');
    const atTwo = join(root, 'targets-w2');
    const made = capture();
    const targetArgs = ['--classes', '0-9', '-n', '12', '--steps', '6', '--chunk-size', '12'];
    expect(
      await runCli(['targets', modelDir, '--out', atTwo, '--guidance-scale', '2', ...targetArgs], {
        stdout: made.stream,
        stderr: made.stream,
      }),
      made.text(),
    ).toBe(0);
    const msd = (targets: string[], extra: string[]) => {
      const out = capture();
      const args = [
        'msd',
        modelDir,
        ...targets.flatMap((t) => ['-t', t]),
        '--out',
        join(root, 'run-w'),
        '--rank',
        '2',
      ];
      const rest = [
        '--steps',
        '1',
        '--batch-size',
        '4',
        '--num-inference-steps',
        '2',
        '--validation-samples',
        '2',
      ];
      return runCli([...args, ...rest, '--tfjs-engine', 'wasm', ...extra], {
        stdout: out.stream,
        stderr: out.stream,
      }).then((code) => ({ code, text: out.text() }));
    };

    const one = await msd([atFour], ['--guidance-conditioned']);
    expect(one.code).toBe(1);
    expect(one.text).toMatch(
      /InvalidArgumentError: guidance-conditioned training: expected target folders made at two or more guidance scales, got 4 only/,
    );
    const plain = await msd([`${atTwo},${atFour}`], []);
    expect(plain.code).toBe(1);
    expect(plain.text).toMatch(
      /got CFG 2 in .*, CFG 4 in .*; train with guidanceConditioned \(--guidance-conditioned\)/,
    );

    const run = await msd(
      [atTwo, atFour],
      ['--guidance-conditioned', '--timestep-embedding', 't_embedder.2$'],
    );
    expect(run.code, run.text).toBe(0);
    expect(run.text).toMatch(/lora refiner conditioned on guidance scales 2, 4/);
    const refiner = await NoiseRefiner.fromPretrained(join(root, 'run-w', 'refiner'), {
      backend: onnxruntimeNode(),
    });
    expect(refiner.metadata.guidanceConditioned).toBe(true);
    await refiner.dispose();
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
    expect(missing.text()).toMatch(/required option '-t, --targets <dirs>' not specified/);
  });
});
