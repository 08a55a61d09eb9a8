import { describe, it } from 'vitest';
import { selectEngine } from '../../engine/engine-selection';
import { expectParity, floats, type ParityCase, singleOpCase, weights } from '../../test-support/parity';

const matmul = (a: number[], b: number[]) =>
  singleOpCase(
    `MatMul [${a}]·[${b}]`,
    { op: 'MatMul', inputs: ['a', 'b'] },
    { a: floats(a, 1), b: floats(b, 2) },
  );
const einsum = (equation: string, ...shapes: number[][]) =>
  singleOpCase(
    `Einsum ${equation}`,
    { op: 'Einsum', inputs: shapes.map((_, i) => `x${i}`), attrs: { equation } },
    Object.fromEntries(shapes.map((s, i) => [`x${i}`, floats(s, i + 3)])),
  );

const CASES: ParityCase[] = [
  matmul([3, 4], [4, 5]),
  matmul([2, 3, 4], [4, 5]),
  matmul([2, 1, 3, 4], [5, 4, 2]),
  matmul([4], [2, 4, 3]),
  matmul([2, 3, 4], [4]),
  singleOpCase(
    'Gemm transB with bias',
    { op: 'Gemm', inputs: ['a', 'w', 'c'], attrs: { transB: 1 } },
    { a: floats([3, 4], 1) },
    {
      initializers: { w: weights([5, 4], 2), c: weights([5], 3) },
    },
  ),
  singleOpCase(
    'Gemm transA, alpha, beta',
    { op: 'Gemm', inputs: ['a', 'b', 'c'], attrs: { transA: 1, alpha: 0.5, beta: 2.5 } },
    {
      a: floats([4, 3], 4),
      b: floats([4, 2], 5),
      c: floats([3, 2], 6),
    },
  ),
  einsum('bhqd,bhkd->bhqk', [2, 2, 3, 4], [2, 2, 5, 4]),
  einsum('bhqk,bhkd->bhqd', [2, 2, 3, 5], [2, 2, 5, 4]),
  einsum('nhwpqc->nchpwq', [2, 2, 3, 2, 2, 4]),
  einsum('ij,jk', [3, 4], [4, 2]),
  einsum('...ij,...jk->...ik', [2, 3, 4], [2, 4, 5]),
  einsum('bi,bj->bij', [3, 4], [3, 2]),
  einsum('ij->', [3, 4]),
  einsum('bij,bjk,bkl->bil', [2, 2, 3], [2, 3, 4], [2, 4, 2]),
];

describe.each(['wasm', 'cpu'] as const)('matrix products on the %s engine match onnxruntime', (engine) => {
  it.each(CASES)('$name', async (c) => {
    await selectEngine({ engine });
    await expectParity({ ...c, atol: 1e-5, rtol: 1e-4 });
  });
});
