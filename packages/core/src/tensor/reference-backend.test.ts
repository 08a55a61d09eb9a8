import { describe, expect, it } from 'vitest';
import { randn } from '../random/index';
import { type BinaryOp, type ReduceOp, type UnaryOp, referenceBackend as rb } from './index';
import { stridesOf } from './shape';

// The fast paths (merged broadcast runs, block reductions, block slices, fused combinations)
// are checked element by element against direct index arithmetic, which states the semantics.

const data = (shape: number[], seed: number) => rb.readSync(randn(shape, { seed }));
const fromValues = (values: Float32Array, shape: number[]) => rb.fromData(values, shape);
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Multi-index of flat index i in `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const strides = stridesOf(shape);
  return shape.map((d, k) => Math.floor(i / (strides[k] as number)) % d);
}
function ravel(index: readonly number[], shape: readonly number[]): number {
  const strides = stridesOf(shape);
  return index.reduce((acc, v, k) => acc + v * (strides[k] as number), 0);
}

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: Math.max,
  minimum: Math.min,
  pow: (a, b) => Math.abs(a) ** b,
};

describe('reference backend: broadcasting binary ops', () => {
  const pairs: [number[], number[]][] = [
    [
      [2, 3, 4],
      [2, 3, 4],
    ],
    [[2, 3, 4], [4]],
    [
      [2, 3, 4],
      [3, 1],
    ],
    [
      [2, 1, 4],
      [1, 3, 1],
    ],
    [
      [2, 4, 3, 3],
      [2, 1, 1, 1],
    ],
    [
      [1, 5],
      [3, 1],
    ],
    [
      [3, 1, 2],
      [1, 1, 1],
    ],
    [[2, 3], []],
  ];
  it.each(pairs)('%j ∘ %j matches index arithmetic for every op', (aShape, bShape) => {
    const av = data(aShape, 1).map(Math.abs);
    const bv = data(bShape, 2);
    const a = fromValues(av, aShape);
    const b = fromValues(bv, bShape);
    const outShape = Array.from({ length: Math.max(aShape.length, bShape.length) }, (_, k) => {
      const da = aShape[aShape.length - Math.max(aShape.length, bShape.length) + k] ?? 1;
      const db = bShape[bShape.length - Math.max(aShape.length, bShape.length) + k] ?? 1;
      return Math.max(da, db);
    });
    for (const op of Object.keys(BINARY) as BinaryOp[]) {
      const x = op === 'pow' ? fromValues(av.map(Math.abs), aShape) : a;
      const out = rb.binary(op, x, b);
      expect(out.shape).toEqual(outShape);
      const got = rb.readSync(out);
      for (let i = 0; i < got.length; i++) {
        const idx = unravel(i, outShape);
        const ia = ravel(
          idx.slice(idx.length - aShape.length).map((v, k) => (aShape[k] === 1 ? 0 : v)),
          aShape,
        );
        const ib = ravel(
          idx.slice(idx.length - bShape.length).map((v, k) => (bShape[k] === 1 ? 0 : v)),
          bShape,
        );
        expect(got[i]).toBe(Math.fround(BINARY[op](av[ia] as number, bv[ib] as number)));
      }
    }
  });

  it('uses a scalar operand at full precision', () => {
    const x = fromValues(Float32Array.of(1, 2, 3), [3]);
    expect(Array.from(rb.readSync(rb.binary('mul', x, 1 / 3)))).toEqual(
      [1, 2, 3].map((v) => Math.fround(v / 3)),
    );
    expect(Array.from(rb.readSync(rb.binary('sub', x, 0.1)))).toEqual(
      [1, 2, 3].map((v) => Math.fround(v - 0.1)),
    );
  });
});

describe('reference backend: unary ops', () => {
  it.each([
    'neg',
    'abs',
    'sqrt',
    'exp',
    'log',
    'square',
    'sign',
    'sin',
    'cos',
    'tanh',
    'sigmoid',
  ] as UnaryOp[])('%s', (op) => {
    const v = data([17], 3).map((x) => (op === 'sqrt' || op === 'log' ? Math.abs(x) : x));
    const expected: Record<UnaryOp, (x: number) => number> = {
      neg: (x) => -x,
      abs: Math.abs,
      sqrt: Math.sqrt,
      exp: Math.exp,
      log: Math.log,
      square: (x) => x * x,
      sign: Math.sign,
      sin: Math.sin,
      cos: Math.cos,
      tanh: Math.tanh,
      sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    };
    const got = rb.readSync(rb.unary(op, fromValues(v, [17])));
    for (const [i, g] of got.entries()) expect(g).toBe(Math.fround(expected[op](v[i] as number)));
  });
});

describe('reference backend: reductions', () => {
  const shape = [2, 3, 4, 5];
  const v = data(shape, 4);
  const cases: number[][] = [[0], [1], [3], [1, 2, 3], [0, 1], [1, 2], [0, 2], [0, 3], [1, 3], [0, 1, 2, 3]];
  it.each(cases)('over axes %j matches a flat-order accumulation', (...axes) => {
    for (const op of ['sum', 'mean', 'max', 'min'] as ReduceOp[]) {
      const out = rb.reduce(op, fromValues(v, shape), axes, true);
      const kept = shape.map((d, k) => (axes.includes(k) ? 1 : d));
      expect(out.shape).toEqual(kept);
      const acc = new Float64Array(size(kept)).fill(op === 'max' ? -Infinity : op === 'min' ? Infinity : 0);
      for (let i = 0; i < v.length; i++) {
        const j = ravel(
          unravel(i, shape).map((x, k) => (axes.includes(k) ? 0 : x)),
          kept,
        );
        const x = v[i] as number;
        acc[j] =
          op === 'max'
            ? Math.max(acc[j] as number, x)
            : op === 'min'
              ? Math.min(acc[j] as number, x)
              : (acc[j] as number) + x;
      }
      const n = v.length / acc.length;
      const got = rb.readSync(out);
      for (const [j, g] of got.entries()) {
        expect(g).toBe(Math.fround(op === 'mean' ? (acc[j] as number) / n : (acc[j] as number)));
      }
    }
  });

  it('drops reduced axes without keepDims and handles negative axes', () => {
    expect(rb.reduce('sum', fromValues(v, shape), [-1, -2]).shape).toEqual([2, 3]);
    expect(rb.reduce('sum', fromValues(v, shape)).shape).toEqual([]);
  });
});

describe('reference backend: slices', () => {
  const shape = [3, 4, 5, 6];
  const v = data(shape, 5);
  const cases: [number[], number[]][] = [
    [
      [1, 0, 0, 0],
      [1, 4, 5, 6],
    ],
    [
      [0, 1, 0, 0],
      [3, 2, 5, 6],
    ],
    [
      [0, 0, 0, 2],
      [3, 4, 5, 3],
    ],
    [
      [2, 3, 4, 5],
      [1, 1, 1, 1],
    ],
    [
      [0, 0, 1, 0],
      [3, 4, 3, -1],
    ],
    [
      [0, 0, 0, 0],
      [3, 4, 5, 6],
    ],
  ];
  it.each(cases)('begin %j size %j', (begin, sz) => {
    const out = rb.slice(fromValues(v, shape), begin, sz);
    const outShape = sz.map((s, k) => (s < 0 ? (shape[k] as number) - (begin[k] as number) : s));
    expect(out.shape).toEqual(outShape);
    const got = rb.readSync(out);
    for (let i = 0; i < got.length; i++) {
      const idx = unravel(i, outShape).map((x, k) => x + (begin[k] as number));
      expect(got[i]).toBe(v[ravel(idx, shape)]);
    }
  });
});

describe('reference backend: linearCombination', () => {
  it.each([1, 2, 3, 4, 5])('%i terms accumulate in float64 and round once', (k) => {
    const xs = Array.from({ length: k }, (_, i) => data([7], 10 + i));
    const cs = [0.3, -1.7, 2.5, 1e-3, -0.25].slice(0, k);
    const out = rb.readSync(
      rb.linearCombination(
        xs.map((x, i) => [cs[i] as number, fromValues(x, [7])] as const),
        0.125,
      ),
    );
    for (let j = 0; j < 7; j++) {
      let acc = k === 2 ? 0 : 0.125;
      for (let i = 0; i < k; i++) acc += (cs[i] as number) * ((xs[i] as Float32Array)[j] as number);
      if (k === 2) acc += 0.125;
      expect(out[j]).toBe(Math.fround(acc));
    }
  });
});

describe('reference backend: storage recycling', () => {
  const shape = [4, 16, 32]; // 2048 elements: recycled sizes
  /** Leaves disposed NaN-filled storage of this length behind, so the next op may receive it. */
  function dirtyPool() {
    for (let i = 0; i < 8; i++) rb.fill(shape, Number.NaN).dispose();
  }

  it('every op overwrites all of recycled storage', () => {
    const v = data(shape, 6);
    const x = () => fromValues(v, shape);
    const ops: [string, () => ReturnType<typeof rb.clone>][] = [
      ['unary', () => rb.unary('neg', x())],
      ['binary scalar', () => rb.binary('mul', x(), 2)],
      ['binary', () => rb.binary('add', x(), x())],
      ['binary broadcast', () => rb.binary('sub', x(), fromValues(Float32Array.of(1, 2, 3, 4), [4, 1, 1]))],
      ['linearCombination', () => rb.linearCombination([[2, x()]])],
      ['clip', () => rb.clip(x(), -0.5, 0.5)],
      ['reshape', () => rb.reshape(x(), [2048])],
      ['transpose', () => rb.transpose(x(), [2, 1, 0])],
      ['slice', () => rb.slice(rb.concat([x(), x()], 0), [2, 0, 0], [4, 16, 32])],
      [
        'concat',
        () => rb.concat([rb.slice(x(), [0, 0, 0], [2, 16, 32]), rb.slice(x(), [2, 0, 0], [2, 16, 32])], 0),
      ],
      ['clone', () => rb.clone(x())],
      ['fromData', () => rb.fromData(v, shape)],
      ['fill', () => rb.fill(shape, 3)],
    ];
    for (const [name, op] of ops) {
      dirtyPool();
      const out = rb.readSync(op());
      expect(out.length, name).toBe(2048);
      expect(out.some(Number.isNaN), name).toBe(false);
    }
  });

  it('reuses the storage of disposed tensors it allocated', () => {
    const a = rb.fill([3000], 1) as unknown as { values: Float32Array; dispose(): void };
    const storage = a.values;
    a.dispose();
    const b = rb.fill([3000], 2) as unknown as { values: Float32Array };
    expect(b.values).toBe(storage);
    expect(Array.from(b.values.subarray(0, 3))).toEqual([2, 2, 2]);
  });

  it('never recycles arrays it did not allocate', async () => {
    const { ReferenceTensor } = await import('./reference-backend');
    const foreign = new Float32Array(5000).fill(9);
    new ReferenceTensor(rb, foreign, [5000]).dispose();
    for (let i = 0; i < 3; i++)
      expect((rb.fill([5000], 0) as unknown as { values: Float32Array }).values).not.toBe(foreign);
    expect(foreign[0]).toBe(9);
  });
});
