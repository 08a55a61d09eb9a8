import { InvalidArgumentError, ShapeMismatchError } from '@noiserefine/core';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../proto';
import { GraphBuilder, OPSET_VERSION } from './graph-builder';
import { getMetadata, setMetadata } from './metadata';
import { runOnnx } from './test-support/run-onnx';
import { maxAbsDiff, testValues } from './test-support/reference-math';

describe('GraphBuilder', () => {
  it('writes a model onnxruntime runs, with symbolic dims, renamed outputs and only parameters as initializers', async () => {
    const g = new GraphBuilder({ name: 'ops', seed: 3 });
    const x = g.input('x', 'float32', ['batch', 2, 6]);
    const bias = g.parameter('bias', [6], { uniform: 1 });
    const shifted = g.add(x, bias);
    const [left, right] = g.split(shifted, [2, 4], -1) as [typeof x, typeof x];
    const swapped = g.concat([right, left], -1);
    const perm = g.transpose(g.reshape(swapped, [0, 4, 3]), [0, 2, 1]); // [B, 3, 4]
    const mean = g.reduceMean(perm, [2], false); // [B, 3]
    const tail = g.slice(perm, { starts: [1], ends: [3], axes: [1] }); // [B, 2, 4]
    g.output(mean, 'mean');
    g.output(tail, 'tail');
    expect(mean.shape).toEqual(['batch', 3]);
    expect(tail.shape).toEqual(['batch', 2, 4]);

    const model = g.toModel();
    expect(model.opsetImport[0]?.version).toBe(OPSET_VERSION);
    expect(model.graph!.initializer!.map((t) => t.name)).toEqual(['bias']);
    expect(model.graph!.output!.map((o) => o.name)).toEqual(['mean', 'tail']);
    expect(model.graph!.input![0]?.type?.tensorType?.shape?.dim?.[0]?.dimParam).toBe('batch');

    const batch = 3;
    const xs = testValues(batch * 12, 1);
    const b = g.parameters().get('bias') as Float32Array;
    const out = await runOnnx(model, { x: { data: xs, dims: [batch, 2, 6] } });

    // The same computation by hand.
    const expectedMean: number[] = [];
    const expectedTail: number[] = [];
    for (let n = 0; n < batch; n++) {
      const flat: number[] = [];
      for (let r = 0; r < 2; r++) {
        const row = Array.from(
          { length: 6 },
          (_, j) => (xs[n * 12 + r * 6 + j] as number) + (b[j] as number),
        );
        flat.push(...row.slice(2), ...row.slice(0, 2));
      }
      // flat is [4, 3] row-major; transposed it is [3, 4].
      const t = Array.from({ length: 3 }, (_, i) =>
        Array.from({ length: 4 }, (_, j) => flat[j * 3 + i] as number),
      );
      for (const row of t) expectedMean.push(row.reduce((s, v) => s + v, 0) / 4);
      for (const row of t.slice(1, 3)) expectedTail.push(...row);
    }
    expect(out.mean?.dims).toEqual([batch, 3]);
    expect(maxAbsDiff(out.mean?.data ?? [], expectedMean)).toBeLessThan(1e-6);
    expect(maxAbsDiff(out.tail?.data ?? [], expectedTail)).toBeLessThan(1e-6);
  });

  it('names parameters and nodes by module path and keeps node names unique', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 4]);
    const y = g.scope('blocks.0', () =>
      g.scope('attn', () => {
        const w = g.parameter('weight', [4, 4], 'ones');
        return g.matMul(g.matMul(x, w), w);
      }),
    );
    g.output(y, 'y');
    const nodes = g.toModel().graph!.node!.map((n) => n.name);
    expect(g.parameters().has('blocks.0.attn.weight')).toBe(true);
    expect(nodes).toEqual(['blocks.0.attn.MatMul', 'blocks.0.attn.MatMul_1']);
    expect(g.scopePath).toBe('');
  });

  it('draws random initialisers from the seed, and trained weights take precedence', () => {
    const build = (seed: number, weights?: Record<string, Float32Array>) => {
      const g = new GraphBuilder({ seed, weights });
      g.parameter('a', [8], { normal: 1 });
      g.parameter('b', [8], { uniform: 0.5 });
      return g.parameters();
    };
    expect(build(1).get('b')).toEqual(build(1).get('b'));
    expect(build(1).get('b')).not.toEqual(build(2).get('b'));
    expect(Math.max(...(build(1).get('b') as Float32Array).map(Math.abs))).toBeLessThanOrEqual(0.5);
    const given = Float32Array.from({ length: 8 }, (_, i) => i);
    expect(build(1, { a: given }).get('a')).toEqual(given);
  });

  it('with exactWeights, rejects missing and unused weights by name', () => {
    const g = new GraphBuilder({ weights: { 'layer.weight': new Float32Array(4) }, exactWeights: true });
    expect(() => g.parameter('other', [4], 'zeros')).toThrow(/expected a value for parameter "other"/);
    const h = new GraphBuilder({
      weights: { a: new Float32Array(2), b: new Float32Array(2) },
      exactWeights: true,
    });
    const a = h.parameter('a', [2], 'zeros');
    h.output(h.add(a, a));
    expect(() => h.toModel()).toThrow(/unused "b"/);
    const wrongSize = new GraphBuilder({ weights: { a: new Float32Array(3) } });
    expect(() => wrongSize.parameter('a', [2], 'zeros')).toThrow(/expected 2 values, got 3/);
  });

  it('fails at build time on shape and type mistakes, naming the node', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 4]);
    const w = g.parameter('w', [5, 3], 'zeros');
    expect(() => g.scope('proj', () => g.matMul(x, w))).toThrow(ShapeMismatchError);
    expect(() => g.scope('proj', () => g.matMul(x, w))).toThrow(/proj\.MatMul.*\[batch, 4\]/);
    expect(() => g.add(x, g.parameter('v', [3], 'zeros'))).toThrow(ShapeMismatchError);
    expect(() => g.reshape(x, [0, 3])).toThrow(ShapeMismatchError);
    expect(() => g.reshape(x, [-1, -1])).toThrow(/at most one -1/);
    const labels = g.input('labels', 'int64', ['batch']);
    expect(() => g.add(x, labels)).toThrow(/one type/);
    expect(() => g.gather(w, x)).toThrow(/int64 or int32 indices/);
    expect(() => g.softmax(x, 2)).toThrow(InvalidArgumentError);
    expect(() => g.parameter('w', [1], 'zeros')).toThrow(/already defined/);
    const other = new GraphBuilder();
    expect(() => other.sqrt(x)).toThrow(/another GraphBuilder/);
    expect(() => g.output(x, 'renamed')).toThrow(/expected a node's output/);
    expect(() => new GraphBuilder().toModel()).toThrow(/at least one graph output/);
  });

  it('infers shapes through reshape 0/-1 copies of symbolic dims', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['batch', 'tokens', 8]);
    expect(g.reshape(x, [0, 0, 2, 4]).shape).toEqual(['batch', 'tokens', 2, 4]);
    expect(g.reshape(x, [0, -1]).shape).toEqual(['batch', null]);
    const y = g.input('y', 'float32', ['batch', 4, 6]);
    expect(g.reshape(y, [0, -1, 3]).shape).toEqual(['batch', 8, 3]);
    expect(g.unsqueeze(y, [1]).shape).toEqual(['batch', 1, 4, 6]);
    expect(g.matMul(y, g.parameter('w', [6, 2], 'zeros')).shape).toEqual(['batch', 4, 2]);
  });

  it('writes and reads metadata props, and survives an encode/decode round trip', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [2]);
    g.output(g.mul(x, 2), 'y');
    const model = decodeModel(encodeModel(g.toModel({ metadata: { family: 'sit', base_model: 'zoo-sit' } })));
    expect(getMetadata(model)).toEqual({ base_model: 'zoo-sit', family: 'sit' });
    setMetadata(model, { family: 'sd21', base_model: undefined, note: 'x' });
    expect(getMetadata(model)).toEqual({ family: 'sd21', note: 'x' });
  });
});
