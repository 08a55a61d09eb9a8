import type { GraphBuilder } from '../graph-builder';
import { type ParameterInit, torchLinearInit, xavierUniformInit } from '../parameter-init';
import type { Value } from '../value';

/** 'torch': nn.Linear's default; 'xavier': DiT's (bias zero); 'zeros': adaLN-Zero and output layers. */
export type LinearInit = 'torch' | 'xavier' | 'zeros';

export interface LinearOptions {
  /** Module path, e.g. 'blocks.0.attn.to_q'. */
  name: string;
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
  init?: LinearInit;
}

/**
 * y = x·W + b as MatMul + Add. `weight` is stored [inFeatures, outFeatures], the
 * transpose of torch's nn.Linear.weight, so the graph needs no Transpose and a trainer
 * updates the MatMul operand directly.
 */
export function linear(g: GraphBuilder, x: Value, options: LinearOptions): Value {
  const { inFeatures: fanIn, outFeatures: fanOut, init = 'torch' } = options;
  const weightInit: ParameterInit =
    init === 'zeros'
      ? 'zeros'
      : init === 'xavier'
        ? xavierUniformInit(fanIn, fanOut)
        : torchLinearInit(fanIn);
  const biasInit: ParameterInit = init === 'torch' ? torchLinearInit(fanIn) : 'zeros';
  return g.scope(options.name, () => {
    const weight = g.parameter('weight', [fanIn, fanOut], weightInit);
    const y = g.matMul(x, weight);
    if (options.bias === false) return y;
    return g.add(y, g.parameter('bias', [fanOut], biasInit));
  });
}
