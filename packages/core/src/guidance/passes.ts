import { InvalidArgumentError, ShapeMismatchError } from '../errors';
import { chunk, concat } from '../tensor/ops';
import { shapesEqual } from '../tensor/shape';
import type { Tensor } from '../tensor/tensor';
import type { GuidancePass, PassOutputs } from './guidance';

/** The batch order of the passes along axis 0, as the reference pipelines stack them. */
export const PASS_ORDER: readonly GuidancePass[] = Object.freeze(['uncond', 'cond', 'perturbed']);

/** Throws unless `passes` is a non-empty subsequence of PASS_ORDER that includes 'cond'. */
export function assertPassList(passes: readonly GuidancePass[], what = 'passes'): void {
  let last = -1;
  for (const pass of passes) {
    const rank = PASS_ORDER.indexOf(pass);
    if (rank < 0) {
      throw new InvalidArgumentError(
        `${what}: unknown pass ${JSON.stringify(pass)}; expected one of ${PASS_ORDER.join(', ')}`,
      );
    }
    if (rank <= last) {
      throw new InvalidArgumentError(
        `${what}: expected distinct passes in the batch order [${PASS_ORDER.join(', ')}], got [${passes.join(', ')}]`,
      );
    }
    last = rank;
  }
  if (!passes.includes('cond')) {
    throw new InvalidArgumentError(`${what}: expected the 'cond' pass among [${passes.join(', ')}]`);
  }
}

/**
 * Concatenates one input per pass along axis 0, in the order of `passes`. A single tensor is
 * repeated for every pass (the latents); a record gives each pass its own (the prompt embeddings).
 */
export function stackPasses(
  passes: readonly GuidancePass[],
  inputs: Tensor | Partial<Record<GuidancePass, Tensor>>,
): Tensor {
  assertPassList(passes);
  const parts = passes.map((pass) => {
    const input = isTensorLike(inputs) ? inputs : inputs[pass];
    if (!input) {
      throw new InvalidArgumentError(`stackPasses: missing the input of the "${pass}" pass`);
    }
    return input;
  });
  return concat(parts, 0);
}

/**
 * Splits a batched model output back into one tensor per pass (axis 0, order of `passes`).
 * The parts are new tensors; the caller still owns (and disposes) `batched`.
 */
export function splitPasses(batched: Tensor, passes: readonly GuidancePass[]): PassOutputs {
  assertPassList(passes);
  const batch = batched.shape[0];
  if (batch === undefined || batch % passes.length !== 0) {
    throw new ShapeMismatchError(
      `splitPasses: a batch of ${passes.length} equal parts [${passes.join(', ')}] along axis 0`,
      `[${passes.length}·B, …]`,
      batched.shape,
    );
  }
  const parts = chunk(batched, passes.length, 0);
  const out: Partial<Record<GuidancePass, Tensor>> = {};
  passes.forEach((pass, i) => {
    out[pass] = parts[i];
  });
  return out as PassOutputs;
}

/**
 * The output of `pass`, checked to exist and to match the cond output's shape.
 * Guidance methods call this for every pass they combine.
 */
export function requirePass(outputs: PassOutputs, pass: GuidancePass, guidance: string): Tensor {
  const x = outputs[pass];
  if (!x) {
    const given = PASS_ORDER.filter((p) => outputs[p] !== undefined);
    throw new InvalidArgumentError(
      `${guidance}: missing the "${pass}" pass output; got outputs for [${given.join(', ')}]`,
    );
  }
  const cond = outputs.cond;
  if (pass !== 'cond' && cond && !shapesEqual(x.shape, cond.shape)) {
    throw new ShapeMismatchError(
      `${guidance}: the "${pass}" output must have the shape of the "cond" output`,
      [...cond.shape],
      [...x.shape],
    );
  }
  return x;
}

function isTensorLike(x: Tensor | Partial<Record<GuidancePass, Tensor>>): x is Tensor {
  return Array.isArray((x as Tensor).shape) && typeof (x as Tensor).dispose === 'function';
}
