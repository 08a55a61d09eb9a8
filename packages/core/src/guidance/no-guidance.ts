import { clone } from '../tensor/ops';
import type { Tensor } from '../tensor/tensor';
import type { Guidance, GuidancePass, PassOutputs } from './guidance';
import { requirePass } from './passes';

const COND_ONLY: readonly GuidancePass[] = Object.freeze(['cond']);

/** The cond output, copied: `combine` always returns a tensor its caller owns. */
export function condPassThrough(outputs: PassOutputs, guidance: string): Tensor {
  return clone(requirePass(outputs, 'cond', guidance));
}

/** Unguided sampling: one conditional pass per step, used as is. */
export function noGuidance(): Guidance {
  return {
    name: 'noGuidance',
    passes: () => COND_ONLY,
    combine: (outputs) => condPassThrough(outputs, 'noGuidance'),
  };
}
