import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph-builder';
import { testValues } from '../test-support/reference-math';
import { runOnnx } from '../test-support/run-onnx';
import type { Value } from '../value';
import { attention } from './attention';
import { labelEmbedding, positionEmbedding2d, timestepEmbedder } from './embeddings';
import { linear } from './linear';
import { mlp } from './mlp';
import { adaLNModulation, gatedResidual, modulate } from './modulation';
import { layerNorm } from './normalization';
import { patchify, unpatchify } from './patches';

/** Operators the tfjs training executor differentiates on the wasm backend (no convolutions). */
const TRAINABLE_OPS = new Set([
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Sqrt',
  'Exp',
  'Sin',
  'Cos',
  'Erf',
  'Tanh',
  'Sigmoid',
  'Softmax',
  'LayerNormalization',
  'Reshape',
  'Transpose',
  'Concat',
  'Gather',
  'Unsqueeze',
  'Slice',
  'Split',
  'ReduceMean',
  'Constant',
]);

/** A two-block DiT on [4, 8, 8] latents, written with the layer helpers. */
function tinyDiT(g: GraphBuilder, zeroInit: boolean) {
  const [dim, heads, patchSize, channels, size] = [16, 2, 2, 4, 8];
  const geometry = { patchSize, channels, height: size, width: size };
  const x = g.input('x', 'float32', ['batch', channels, size, size]);
  const t = g.input('t', 'float32', ['batch']);
  const y = g.input('y', 'int64', ['batch']);
  let h = linear(g, patchify(g, x, geometry), { name: 'x_embedder.proj', inFeatures: 16, outFeatures: dim });
  h = g.add(h, positionEmbedding2d(g, { dim, gridSize: size / patchSize }));
  const c = g.add(
    timestepEmbedder(g, t, { name: 't_embedder', dim }),
    labelEmbedding(g, y, { name: 'y_embedder', numClasses: 10, dim }),
  );
  for (let i = 0; i < 2; i++) {
    const name = `blocks.${i}`;
    const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = adaLNModulation(g, c, {
      name,
      dim,
      chunks: 6,
    }) as Value[] as [Value, Value, Value, Value, Value, Value];
    g.scope(name, () => {
      const n1 = modulate(
        g,
        layerNorm(g, h, { name: 'norm1', dim, elementwiseAffine: false }),
        shiftMsa,
        scaleMsa,
      );
      h = gatedResidual(g, h, gateMsa, attention(g, n1, { name: 'attn', dim, heads }));
      const n2 = modulate(
        g,
        layerNorm(g, h, { name: 'norm2', dim, elementwiseAffine: false }),
        shiftMlp,
        scaleMlp,
      );
      h = gatedResidual(g, h, gateMlp, mlp(g, n2, { name: 'mlp', inFeatures: dim, hiddenFeatures: 4 * dim }));
    });
  }
  const [shift, scale] = adaLNModulation(g, c, { name: 'final_layer', dim, chunks: 2 }) as [Value, Value];
  const out = g.scope('final_layer', () => {
    const normed = modulate(
      g,
      layerNorm(g, h, { name: 'norm_final', dim, elementwiseAffine: false }),
      shift,
      scale,
    );
    return linear(g, normed, {
      name: 'linear',
      inFeatures: dim,
      outFeatures: patchSize * patchSize * channels,
      init: zeroInit ? 'zeros' : 'torch',
    });
  });
  g.output(unpatchify(g, out, geometry), 'out_sample');
}

describe('layer composition', () => {
  it('a DiT written with the helpers uses only trainable operators and runs on onnxruntime', async () => {
    const g = new GraphBuilder({ seed: 1 });
    tinyDiT(g, false);
    const model = g.toModel({ metadata: { family: 'sit' } });
    const ops = new Set(model.graph!.node!.map((n) => n.opType!));
    expect([...ops].filter((op) => !TRAINABLE_OPS.has(op))).toEqual([]);
    expect(g.parameters().has('blocks.1.attn.to_q.weight')).toBe(true);
    expect(g.parameters().has('blocks.0.adaLN_modulation.1.weight')).toBe(true);

    const batch = 3;
    const out = await runOnnx(model, {
      x: { data: testValues(batch * 256, 2), dims: [batch, 4, 8, 8] },
      t: { data: Float32Array.of(0, 0.5, 1), dims: [batch] },
      y: { data: BigInt64Array.of(0n, 9n, 10n), dims: [batch] },
    });
    expect(out.out_sample?.dims).toEqual([batch, 4, 8, 8]);
    expect(out.out_sample!.data.every(Number.isFinite)).toBe(true);
    // The blocks start gated shut (adaLN-Zero), but the final layer here is random: the output varies.
    expect(new Set(out.out_sample!.data).size).toBeGreaterThan(10);
  });

  it('with a zero output layer (DiT initialisation) the network starts at exactly zero', async () => {
    const g = new GraphBuilder({ seed: 1 });
    tinyDiT(g, true);
    const out = await runOnnx(g.toModel(), {
      x: { data: testValues(256, 3), dims: [1, 4, 8, 8] },
      t: { data: Float32Array.of(0.3), dims: [1] },
      y: { data: BigInt64Array.of(4n), dims: [1] },
    });
    expect(out.out_sample!.data.every((v) => v === 0)).toBe(true);
  });
});
