import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { builtinModules, createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { float16BitsToFloat32, float32ToFloat16Bits, Generator } from '@noiserefine/core';
import { onnxruntimeNode } from '@noiserefine/onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DdimLoopOptions, runDdimLoop } from './browser-test/ddim-loop';
import { float16DoublerModel, scalarTimestepDenoiser } from './browser-test/denoiser';
import { type RefinedSitOptions, runRefinedSit } from './browser-test/refined-sit';
import { onnxruntimeWeb } from './index';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const here = dirname(fileURLToPath(import.meta.url));
// onnxruntime-web's wasm binaries and their loaders, served to the page under /ort/.
const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
const LOOP: DdimLoopOptions = { steps: 8, seed: 1234, shape: [1, 4, 16, 16] };
// The zoo's trained SiT model and its refiner; the page gets only the files the pipeline reads.
const TINY_SIT = join(resolve(here, '../../..'), 'zoo', 'models', 'tiny-sit');
const TINY_SIT_FILES = [
  'transformer/config.json',
  'transformer/model.onnx',
  'scheduler/scheduler_config.json',
  'vae_decoder/config.json',
  'vae_decoder/model.onnx',
  'refiner/config.json',
  'refiner/model.onnx',
];
const REFINED_SIT: RefinedSitOptions = { classLabel: [2, 9], seed: 7, numInferenceSteps: 4 };
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.json': 'application/json',
};

interface PageApi {
  noiserefineTest: {
    runInPage(
      url: string,
      options: DdimLoopOptions,
      providers: string[],
    ): Promise<{ latent: number[]; executionProviders: string[]; warnings: string[] }>;
    loadError(url: string): Promise<{ name: string; message: string }>;
    runFloat16(url: string, values: number[]): Promise<number[]>;
    runRefinedSitInPage(
      folderUrl: string,
      options: RefinedSitOptions,
    ): Promise<{ refined: number[]; unrefined: number[] }>;
  };
}

async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'browser-test', 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Code for local files imports Node built-ins on demand; a page never runs it. Kept external
    // as Vite does for browser builds: a static import of one would still fail in the page.
    external: [...builtinModules, 'node:*'],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

function serve(files: Record<string, Uint8Array | string>): Promise<Server> {
  const server = createServer(async (req, res) => {
    const requested = new URL(req.url ?? '/', 'http://localhost').pathname;
    const path = requested === '/' ? '/index.html' : requested;
    let body: Uint8Array | string | undefined = files[path];
    if (body === undefined && path.startsWith('/ort/') && !path.includes('..')) {
      body = await readFile(join(ortDist, path.slice('/ort/'.length))).catch(() => undefined);
    }
    if (body === undefined) {
      res.writeHead(404, 'Not Found').end();
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream' });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The named files of a folder on disk, keyed by the URL path they are served at. */
async function servedFolder(urlPath: string, dir: string, names: readonly string[]) {
  const files: Record<string, Uint8Array> = {};
  for (const name of names) files[`${urlPath}/${name}`] = new Uint8Array(await readFile(join(dir, name)));
  return files;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

describe.skipIf(!hasChromium)(
  hasChromium
    ? 'onnxruntime-web in headless Chromium'
    : `onnxruntime-web in headless Chromium (skipped: ${CHROMIUM} is absent)`,
  () => {
    const model = scalarTimestepDenoiser(3);
    let server: Server;
    let browser: Browser;
    let page: Page;
    let base: string;

    beforeAll(async () => {
      server = await serve({
        '/index.html': '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>',
        '/page.js': await bundlePage(),
        '/model.onnx': model,
        '/float16.onnx': float16DoublerModel(),
        ...(await servedFolder('/models/tiny-sit', TINY_SIT, TINY_SIT_FILES)),
      });
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      page = await browser.newPage();
      await page.goto(`${base}/`);
      await page.waitForFunction(() => 'noiserefineTest' in globalThis);
    });

    afterAll(async () => {
      await browser?.close();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });

    it('runs a DDIM loop on wasm that matches the same loop in Node', async () => {
      const inPage = await page.evaluate(
        ([url, options]) =>
          (globalThis as unknown as PageApi).noiserefineTest.runInPage(url, options, ['wasm']),
        [`${base}/model.onnx`, LOOP] as const,
      );
      expect(inPage.executionProviders).toEqual(['wasm']);
      expect(inPage.warnings).toEqual([]);
      const inNode = await runDdimLoop(onnxruntimeWeb(), model, LOOP);
      const diff = maxAbsDiff(inPage.latent, inNode.latent);
      expect(diff).toBeLessThan(1e-5);
      // The loop moved the latent away from its initial noise.
      const noise = new Generator(LOOP.seed).randnValues(inPage.latent.length);
      expect(maxAbsDiff(inPage.latent, noise)).toBeGreaterThan(0.1);
    });

    it('loads a SiT pipeline and its refiner over HTTP and generates what Node generates (max |Δ| ≤ 1e-4)', async () => {
      const inPage = await page.evaluate(
        ([url, options]) =>
          (globalThis as unknown as PageApi).noiserefineTest.runRefinedSitInPage(url, options),
        [`${base}/models/tiny-sit/`, REFINED_SIT] as const,
      );
      const inNode = await runRefinedSit(onnxruntimeNode(), TINY_SIT, REFINED_SIT);
      expect(inPage.refined).toHaveLength(inNode.refined.length);
      expect(inPage.refined.every(Number.isFinite)).toBe(true);
      expect(maxAbsDiff(inPage.refined, inNode.refined)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(inPage.unrefined, inNode.unrefined)).toBeLessThanOrEqual(1e-4);
      // The refiner did move the starting noise, so the comparison covers it.
      expect(maxAbsDiff(inPage.refined, inPage.unrefined)).toBeGreaterThan(1e-2);
    });

    it('falls back from WebGPU to wasm with a warning when the page has no GPU', async () => {
      const inPage = await page.evaluate(
        ([url, options]) =>
          (globalThis as unknown as PageApi).noiserefineTest.runInPage(url, options, ['webgpu']),
        [`${base}/model.onnx`, { ...LOOP, steps: 2 }] as const,
      );
      expect(inPage.executionProviders).toEqual(['wasm']);
      expect(inPage.warnings).toHaveLength(1);
      expect(inPage.warnings[0]).toMatch(
        /^onnxruntime-web: execution provider "webgpu" unavailable, falling back to "wasm"/,
      );
    });

    it('converts float32 tensors to float16 inputs and float16 outputs back', async () => {
      const values = [1 / 3, -2.5, 1e-6, 40000];
      const doubled = await page.evaluate(
        ([url, xs]) => (globalThis as unknown as PageApi).noiserefineTest.runFloat16(url, xs),
        [`${base}/float16.onnx`, values] as [string, number[]],
      );
      const rounded = float16BitsToFloat32(float32ToFloat16Bits(values));
      // 2 × 40000 overflows float16's range (65504).
      expect(doubled).toEqual([
        ...Array.from(rounded.subarray(0, 3), (v) => 2 * v),
        Number.POSITIVE_INFINITY,
      ]);
      expect(await page.evaluate(() => typeof (globalThis as { Float16Array?: unknown }).Float16Array)).toBe(
        'function',
      );
    });

    it('names a model URL the server does not have', async () => {
      const url = `${base}/missing.onnx`;
      const error = await page.evaluate(
        (u) => (globalThis as unknown as PageApi).noiserefineTest.loadError(u),
        url,
      );
      expect(error).toEqual({
        name: 'ModelLoadError',
        message: `cannot load model "${url}": HTTP 404 Not Found`,
      });
    });
  },
);
