import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ModelLoadError } from '@noiserefine/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asUrl, localPathOf, readFileBytes } from './model-files';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/model.onnx') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from([1, 2, 3]));
    } else {
      res.writeHead(404, 'Not Found');
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('asUrl', () => {
  it('parses URLs with known schemes and leaves paths alone', () => {
    expect(asUrl('https://example.com/m.onnx')?.href).toBe('https://example.com/m.onnx');
    expect(asUrl('file:///tmp/m.onnx')?.protocol).toBe('file:');
    expect(asUrl('/tmp/m.onnx')).toBeUndefined();
    expect(asUrl('models/unet.onnx')).toBeUndefined();
    expect(asUrl('C:\\models\\unet.onnx')).toBeUndefined();
  });
});

describe('localPathOf', () => {
  it('maps paths and file: URLs to paths, not remote URLs', async () => {
    expect(await localPathOf('models/unet.onnx')).toBe('models/unet.onnx');
    expect(await localPathOf(new URL('file:///tmp/m.onnx'))).toBe('/tmp/m.onnx');
    expect(await localPathOf(`${base}/model.onnx`)).toBeUndefined();
  });
});

describe('readFileBytes', () => {
  it('fetches URLs', async () => {
    expect(Array.from(await readFileBytes(new URL(`${base}/model.onnx`)))).toEqual([1, 2, 3]);
  });

  it('names the URL and the HTTP status of a failed fetch', async () => {
    const error = await readFileBytes(`${base}/missing.onnx`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toBe(`cannot load model "${base}/missing.onnx": HTTP 404 Not Found`);
  });

  it('names a missing local file', async () => {
    await expect(readFileBytes('/nonexistent/dir/model.onnx_data')).rejects.toThrow(
      'cannot load model "/nonexistent/dir/model.onnx_data": file not found',
    );
  });
});
