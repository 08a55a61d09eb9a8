import { InvalidArgumentError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { getMetadata } from '../builder/metadata';
import { GraphBuilder } from '../builder/graph-builder';
import { linear } from '../builder/layers/linear';
import { decodeModel, type ModelProto } from '../proto';
import { loraLayers } from './lora';
import { findOutputProjection, makeRefinerGraph, refinerTrainable } from './refiner-graph';
import { perturbed } from './test-support/perturbed-initializers';
import { loadPagFixture, maxAbsDiff, runModel } from './test-support/pag-fixtures';

const inputNames = (m: ModelProto) => (m.graph?.input ?? []).map((i) => i.name);

describe.each([
  ['pag-unet', 'stable-diffusion', 'conv_out', ['conv_out.weight', 'conv_out.bias']],
  ['pag-dit', 'sit', 'final_linear', ['onnx::MatMul_372', 'final_linear.bias']],
] as const)('makeRefinerGraph on %s', (name, family, headPath, headParams) => {
  const { bytes, record } = loadPagFixture(name);

  it(`finds the output projection ${headPath}`, () => {
    const head = findOutputProjection(decodeModel(bytes).graph ?? {});
    expect(head.path).toBe(headPath);
    expect([head.weight, ...head.biases]).toEqual(headParams);
  });

  it('lora: keeps the I/O names, outputs exactly zero at init, and records what to train', async () => {
    const { model, trainable, outputProjection } = makeRefinerGraph(bytes, {
      kind: 'lora',
      rank: 2,
      family,
      baseModel: `tiny-${name}`,
    });
    expect(inputNames(model)).toEqual(inputNames(decodeModel(bytes)));
    expect(outputProjection?.path).toBe(headPath);
    const out = await runModel(model, record.inputs, record.outputName);
    expect(out.every((v) => v === 0)).toBe(true);
    expect(trainable).toEqual(expect.arrayContaining([...headParams]));
    expect(trainable).toEqual(expect.arrayContaining(loraLayers(model).flatMap((l) => [l.a, l.b])));
    expect(loraLayers(model).some((l) => l.path === headPath)).toBe(false);
    expect(refinerTrainable(model)).toEqual(trainable);
    expect(getMetadata(model)).toMatchObject({ family, base_model: `tiny-${name}`, kind: 'lora' });
    // Once trained, the residual is live.
    const trained = await runModel(perturbed(model, trainable, 1, 0.1), record.inputs, record.outputName);
    expect(maxAbsDiff(trained, out)).toBeGreaterThan(1e-3);
    expect(trained.every(Number.isFinite)).toBe(true);
  });

  it('standalone: a new zero-output network with the same inputs', async () => {
    const { model, trainable } = makeRefinerGraph(bytes, {
      kind: 'standalone',
      latentShape: [4, 8, 8],
      hiddenSize: 32,
      depth: 1,
      family,
      baseModel: `tiny-${name}`,
    });
    expect(inputNames(model)).toEqual(inputNames(decodeModel(bytes)));
    expect(model.graph?.output?.[0]?.name).toBe(record.outputName);
    expect(getMetadata(model)).toMatchObject({ kind: 'standalone', family });
    const out = await runModel(model, record.inputs, record.outputName);
    expect(out.length).toBe(2 * 4 * 8 * 8);
    expect(out.every((v) => v === 0)).toBe(true);
    expect(trainable).toContain('final_layer.linear.weight');
    const trained = await runModel(perturbed(model, trainable, 2, 0.1), record.inputs, record.outputName);
    expect(trained.some((v) => Math.abs(v) > 1e-3)).toBe(true);
  });
});

describe('makeRefinerGraph errors', () => {
  it('rejects a model whose output mixes activations after the last weighted layer', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 8]);
    const h = linear(g, x, { name: 'proj', inFeatures: 8, outFeatures: 8 });
    g.output(g.add(h, x), 'y');
    expect(() =>
      makeRefinerGraph(g.toModel(), { kind: 'lora', rank: 1, family: 'sit', baseModel: 'm' }),
    ).toThrow(/expected output "y" to come from a MatMul, Gemm or Conv .* got the chain Add/);
  });

  it('rejects missing metadata and unknown kinds with typed errors', () => {
    const { bytes } = loadPagFixture('pag-dit');
    expect(() => makeRefinerGraph(bytes, { kind: 'lora', rank: 1, family: '', baseModel: 'x' })).toThrow(
      InvalidArgumentError,
    );
    expect(() => makeRefinerGraph(bytes, { kind: 'other', family: 'sit', baseModel: 'x' } as never)).toThrow(
      /expected kind "lora" or "standalone"/,
    );
    expect(() =>
      makeRefinerGraph(bytes, { kind: 'standalone', latentShape: [4, 8], family: 'sit', baseModel: 'x' }),
    ).toThrow(/expected latentShape \[C, H, W\]/);
  });
});
