/** The TensorBackend's ops on seeded random data, each checked against the reference backend. */
import type { BinaryOp, LinearTerm, ReduceOp, Shape, Tensor, UnaryOp } from '../tensor/tensor';
import { type ConformanceGroup, testCase } from './cases';
import { EXACT } from './compare';
import { type Input, awayFromZero, checkAgainstReference, normal, positive, withZeros } from './op-checks';

const UNARY_INPUTS: Record<UnaryOp, (seed: number, shape: Shape) => Input> = {
  neg: (s, shape) => normal(s, shape),
  abs: (s, shape) => withZeros(s, shape),
  sqrt: (s, shape) => {
    const x = positive(s, shape);
    x.data[0] = 0;
    return x;
  },
  exp: (s, shape) => normal(s, shape, 3),
  log: (s, shape) => positive(s, shape, 1e-3),
  square: (s, shape) => normal(s, shape, 3),
  sign: (s, shape) => withZeros(s, shape),
  sin: (s, shape) => normal(s, shape, 4),
  cos: (s, shape) => normal(s, shape, 4),
  tanh: (s, shape) => normal(s, shape, 3),
  sigmoid: (s, shape) => normal(s, shape, 8),
};

const UNARY_OPS = Object.keys(UNARY_INPUTS) as UnaryOp[];
const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'];
const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'mean', 'max', 'min'];

/** Operands in each op's domain: pow takes positive bases, div non-small divisors. */
function binaryInputs(op: BinaryOp, seed: number, aShape: Shape, bShape: Shape): [Input, Input] {
  if (op === 'pow') return [positive(seed, aShape, 0.1), normal(seed + 1, bShape, 1.5)];
  if (op === 'div') return [normal(seed, aShape, 2), awayFromZero(seed + 1, bShape)];
  return [normal(seed, aShape, 2), normal(seed + 1, bShape, 2)];
}

const BROADCAST_SHAPES: readonly [Shape, Shape][] = [
  [[2, 3, 4], [4]],
  [
    [2, 3, 4],
    [3, 1],
  ],
  [
    [2, 1, 4],
    [1, 3, 1],
  ],
  [[4], [2, 3, 4]],
  [[2, 3, 4], []],
  [[1], [2, 3]],
  // A per-sample factor, as guidance rescale applies one.
  [
    [2, 4, 8, 8],
    [2, 1, 1, 1],
  ],
];

const REDUCE_AXES: readonly [axes: number[] | undefined, keepDims: boolean][] = [
  [undefined, false],
  [undefined, true],
  [[1], false],
  [[1, 2, 3], false],
  [[1, 2, 3], true],
  [[-1], false],
  [[0, 2], true],
];

function elementwiseCases(): ConformanceGroup[] {
  const shape: Shape = [3, 5, 7];
  const unary: ConformanceGroup = {
    title: 'unary ops',
    cases: UNARY_OPS.map((op, i) =>
      testCase(`ops/unary/${op}`, (ctx) =>
        checkAgainstReference(ctx, `unary ${op}`, [UNARY_INPUTS[op](200 + i, shape)], (b, [x]) =>
          b.unary(op, x as Tensor),
        ),
      ),
    ),
  };
  const binary: ConformanceGroup = {
    title: 'binary ops',
    cases: [
      ...BINARY_OPS.map((op, i) =>
        testCase(`ops/binary/${op}`, (ctx) =>
          checkAgainstReference(
            ctx,
            `binary ${op}`,
            binaryInputs(op, 300 + 2 * i, [4, 6, 5], [4, 6, 5]),
            (b, [x, y]) => b.binary(op, x as Tensor, y as Tensor),
          ),
        ),
      ),
      testCase('ops/binary/broadcast', async (ctx) => {
        for (const [k, [aShape, bShape]] of BROADCAST_SHAPES.entries()) {
          for (const [i, op] of BINARY_OPS.entries()) {
            const what = `${op} of [${aShape.join(', ')}] and [${bShape.join(', ')}]`;
            await checkAgainstReference(
              ctx,
              what,
              binaryInputs(op, 400 + 20 * k + 2 * i, aShape, bShape),
              (b, [x, y]) => b.binary(op, x as Tensor, y as Tensor),
            );
          }
        }
      }),
      testCase('ops/binary/scalar', async (ctx) => {
        for (const [i, op] of BINARY_OPS.entries()) {
          const scalars = op === 'pow' ? [2, 0.5, -1] : [2.5, -0.75];
          for (const shape of [[4, 6, 5], []] as Shape[]) {
            const [x] = binaryInputs(op, 600 + i, shape, shape);
            for (const s of scalars) {
              await checkAgainstReference(
                ctx,
                `${op} of [${shape.join(', ')}] and the number ${s}`,
                [x],
                (b, [t]) => b.binary(op, t as Tensor, s),
              );
            }
          }
        }
      }),
      testCase('ops/binary/pow-integer-exponent', async (ctx) => {
        // Negative bases are defined for integer exponents: (−2)³ = −8.
        const base = normal(650, [4, 6], 2);
        for (const s of [2, 3]) {
          await checkAgainstReference(ctx, `pow of negative bases and the number ${s}`, [base], (b, [t]) =>
            b.binary('pow', t as Tensor, s),
          );
        }
        const exponents = { data: Float32Array.from([2, 3, 0, 1, 2, 3]), shape: [6] };
        await checkAgainstReference(
          ctx,
          'pow of negative bases and integer tensor exponents',
          [base, exponents],
          (b, [t, e]) => b.binary('pow', t as Tensor, e as Tensor),
        );
      }),
    ],
  };
  return [unary, binary];
}

function fusedCases(): ConformanceGroup {
  return {
    title: 'fused ops',
    cases: [
      testCase('ops/linearCombination', async (ctx) => {
        const shape: Shape = [2, 4, 16, 16];
        const inputs = [0, 1, 2, 3, 4].map((i) => normal(700 + i, shape));
        const cases: [coefficients: number[], bias: number | undefined][] = [
          [[2.5], undefined],
          [[0.7, -1.3], undefined],
          [[1, -7.5, 7.5], 0.25],
          [[0.1, 0.2, -0.3, 0.4, -0.5], -1],
          [[1e-3, 1e3], 0],
        ];
        for (const [coefficients, bias] of cases) {
          const used = inputs.slice(0, coefficients.length);
          await checkAgainstReference(ctx, `linearCombination [${coefficients}] + ${bias}`, used, (b, xs) => {
            const terms = coefficients.map((c, i): LinearTerm => [c, xs[i] as Tensor]);
            return bias === undefined ? b.linearCombination(terms) : b.linearCombination(terms, bias);
          });
        }
      }),
      testCase('ops/clip', async (ctx) => {
        const x = normal(720, [5, 8], 2);
        x.data[0] = -1;
        x.data[1] = 1.5;
        for (const [lo, hi] of [
          [-1, 1.5],
          [0, 0],
          [-10, 10],
        ] as const) {
          await checkAgainstReference(ctx, `clip to [${lo}, ${hi}]`, [x], (b, [t]) =>
            b.clip(t as Tensor, lo, hi),
          );
        }
      }),
    ],
  };
}

function reductionCases(): ConformanceGroup {
  return {
    title: 'reductions',
    cases: REDUCE_OPS.map((op, i) =>
      testCase(`ops/reduce/${op}`, async (ctx) => {
        const x = normal(800 + i, [2, 3, 4, 5], 2);
        // Backends may accumulate in another order: allow 10× the elementwise tolerance.
        const tolerance = { atol: ctx.opsTolerance.atol * 10, rtol: ctx.opsTolerance.rtol * 10 };
        for (const [axes, keepDims] of REDUCE_AXES) {
          const what = `${op} over axes ${axes ? `[${axes}]` : 'all'}${keepDims ? ' keeping dims' : ''}`;
          await checkAgainstReference(
            ctx,
            what,
            [x],
            (b, [t]) => b.reduce(op, t as Tensor, axes, keepDims),
            tolerance,
          );
        }
      }),
    ),
  };
}

function layoutCases(): ConformanceGroup {
  return {
    title: 'layout ops',
    cases: [
      testCase('ops/reshape', async (ctx) => {
        const x = normal(900, [2, 3, 4]);
        for (const shape of [[6, 4], [24], [4, 3, 2], [1, 24, 1]] as Shape[]) {
          await checkAgainstReference(
            ctx,
            `reshape to [${shape}]`,
            [x],
            (b, [t]) => b.reshape(t as Tensor, shape),
            EXACT,
          );
        }
        await checkAgainstReference(
          ctx,
          'reshape [1] to []',
          [normal(901, [1])],
          (b, [t]) => b.reshape(t as Tensor, []),
          EXACT,
        );
        await checkAgainstReference(
          ctx,
          'reshape [] to [1, 1]',
          [normal(902, [])],
          (b, [t]) => b.reshape(t as Tensor, [1, 1]),
          EXACT,
        );
      }),
      testCase('ops/transpose', async (ctx) => {
        const cases: [Shape, number[]][] = [
          [
            [3, 5],
            [1, 0],
          ],
          [
            [2, 3, 4],
            [2, 0, 1],
          ],
          [
            [2, 3, 4],
            [0, 2, 1],
          ],
          [
            [2, 3, 4],
            [0, 1, 2],
          ],
          [
            [2, 4, 3, 5],
            [0, 2, 3, 1],
          ],
          [
            [2, 4, 3, 5],
            [0, 3, 1, 2],
          ],
        ];
        for (const [k, [shape, perm]] of cases.entries()) {
          await checkAgainstReference(
            ctx,
            `transpose [${shape}] by [${perm}]`,
            [normal(910 + k, shape)],
            (b, [t]) => b.transpose(t as Tensor, perm),
            EXACT,
          );
        }
      }),
      testCase('ops/slice', async (ctx) => {
        const x = normal(920, [4, 5, 6]);
        const cases: [number[], number[]][] = [
          [
            [1, 0, 2],
            [2, 5, 3],
          ],
          [
            [0, 0, 0],
            [4, 5, 6],
          ],
          [
            [3, 4, 5],
            [1, 1, 1],
          ],
          [
            [0, 2, 0],
            [4, 1, 6],
          ],
        ];
        for (const [begin, size] of cases) {
          await checkAgainstReference(
            ctx,
            `slice at [${begin}] of size [${size}]`,
            [x],
            (b, [t]) => b.slice(t as Tensor, begin, size),
            EXACT,
          );
        }
        await checkAgainstReference(
          ctx,
          'slice of a rank-1 tensor',
          [normal(921, [10])],
          (b, [t]) => b.slice(t as Tensor, [3], [4]),
          EXACT,
        );
      }),
      testCase('ops/slice/size-to-end', (ctx) =>
        // A size of −1 takes the rest of that axis, as tf.slice does.
        checkAgainstReference(
          ctx,
          'slice with sizes −1',
          [normal(930, [4, 5, 6])],
          (b, [t]) => b.slice(t as Tensor, [1, 2, 0], [-1, 2, -1]),
          EXACT,
        ),
      ),
      testCase('ops/concat', async (ctx) => {
        const cases: [Shape[], number][] = [
          [
            [
              [1, 3, 4],
              [2, 3, 4],
              [3, 3, 4],
            ],
            0,
          ],
          [
            [
              [2, 1, 4],
              [2, 5, 4],
            ],
            1,
          ],
          [
            [
              [2, 3, 1],
              [2, 3, 2],
              [2, 3, 3],
            ],
            2,
          ],
          [
            [
              [2, 3, 2],
              [2, 3, 2],
            ],
            -1,
          ],
          [[[2, 3]], 0],
        ];
        for (const [k, [shapes, axis]] of cases.entries()) {
          const inputs = shapes.map((s, i) => normal(940 + 10 * k + i, s));
          await checkAgainstReference(
            ctx,
            `concat of ${shapes.length} tensors along axis ${axis}`,
            inputs,
            (b, xs) => b.concat(xs, axis),
            EXACT,
          );
        }
      }),
    ],
  };
}

/** Elementwise, fused, reduction and layout ops. */
export function opGroups(): ConformanceGroup[] {
  return [...elementwiseCases(), fusedCases(), reductionCases(), layoutCases()];
}
