/**
 * Checks the feeds of a model call against the model's input metadata before
 * any runtime sees them, so a wrong call fails with one error that lists every
 * problem and both signatures, instead of a runtime message about one index.
 */
import { DisposedTensorError, ModelSignatureError, formatShape } from '../errors';
import type { Tensor } from '../tensor/tensor';
import type { Dim, HostTensor, ModelDType, ModelFeeds, ValueInfo } from './model';

/** What a caller passed for one input: its element type, shape, and whether it was a core Tensor. */
export interface FeedInfo {
  readonly name: string;
  readonly dtype: HostTensor['dtype'];
  readonly shape: readonly number[];
  readonly kind: 'tensor' | 'host';
}

export interface SignatureCheckOptions {
  /** Names the model in messages (a file name, a URL). */
  model?: string;
}

const FLOAT_DTYPES: ReadonlySet<ModelDType> = new Set(['float32', 'float16', 'float64']);

/** A HostTensor holds its data in a field; a core Tensor reads it back through a method. */
export function isHostTensor(value: Tensor | HostTensor): value is HostTensor {
  return typeof (value as { data: unknown }).data !== 'function';
}

export function describeFeed(name: string, value: Tensor | HostTensor): FeedInfo {
  if (isHostTensor(value)) return { name, dtype: value.dtype, shape: value.shape, kind: 'host' };
  return { name, dtype: value.dtype, shape: value.shape, kind: 'tensor' };
}

/**
 * Whether a feed can go to an input of `expected` type. Floats convert among
 * themselves (a float32 latent feeds a float16 export); int32 widens to int64
 * (token ids); everything else must match exactly.
 */
export function isFeedAccepted(expected: ModelDType, feed: Pick<FeedInfo, 'dtype' | 'kind'>): boolean {
  if (feed.dtype === expected) return true;
  if (FLOAT_DTYPES.has(expected) && (feed.dtype === 'float32' || feed.dtype === 'float16')) return true;
  return feed.kind === 'host' && expected === 'int64' && feed.dtype === 'int32';
}

/** `name: dtype [d0, d1]` for each entry, the way messages list signatures. */
export function formatSignature(
  entries: readonly { name: string; dtype: string; shape: readonly (Dim | number)[] }[],
): string {
  if (entries.length === 0) return '(none)';
  return entries.map((e) => `${e.name}: ${e.dtype} ${formatShape(e.shape.map(formatDim))}`).join(', ');
}

function formatDim(d: Dim): number | string {
  return d === null ? '?' : d;
}

function modelPrefix(options: SignatureCheckOptions): string {
  return options.model ? `model "${options.model}"` : 'model';
}

/**
 * Throws ModelSignatureError when `feeds` do not fit `inputs`: missing or unknown
 * names, incompatible dtypes, wrong ranks or sizes, symbolic dimensions bound to
 * different sizes by different inputs. An empty expected shape is not checked:
 * runtimes report both scalars and inputs without shape information that way.
 * Returns the sizes the feeds bind symbolic dimensions to, e.g. { batch: 2 }.
 */
export function validateFeeds(
  inputs: readonly ValueInfo[],
  feeds: ModelFeeds,
  options: SignatureCheckOptions = {},
): Record<string, number> {
  const problems: string[] = [];
  const given: FeedInfo[] = [];
  const expectedNames = new Set(inputs.map((i) => i.name));
  for (const [name, value] of Object.entries(feeds)) {
    if (!isHostTensor(value) && value.isDisposed)
      throw new DisposedTensorError(value.shape, value.backend.name);
    const feed = describeFeed(name, value);
    given.push(feed);
    if (!expectedNames.has(name)) problems.push(`unknown input "${name}"`);
    if (isHostTensor(value)) {
      const size = value.shape.reduce((n, d) => n * d, 1);
      if (value.data.length !== size) {
        problems.push(
          `input "${name}": data has ${value.data.length} elements, shape ${formatShape(value.shape)} needs ${size}`,
        );
      }
    }
  }

  const dims: Record<string, number> = {};
  const boundBy: Record<string, string> = {};
  for (const input of inputs) {
    const value = feeds[input.name];
    if (value === undefined) {
      problems.push(`missing input "${input.name}"`);
      continue;
    }
    const feed = describeFeed(input.name, value);
    if (!isFeedAccepted(input.dtype, feed)) {
      const hint =
        feed.kind === 'tensor' && !FLOAT_DTYPES.has(input.dtype)
          ? ' (pass a HostTensor for non-float inputs)'
          : '';
      const what = feed.kind === 'tensor' ? 'a float32 Tensor' : `a ${feed.dtype} HostTensor`;
      problems.push(`input "${input.name}": expected ${input.dtype}, got ${what}${hint}`);
    }
    problems.push(...shapeProblems(input, feed.shape, dims, boundBy));
  }

  if (problems.length > 0) {
    throw new ModelSignatureError(
      `${modelPrefix(options)}: inputs do not match its signature:\n` +
        problems.map((p) => `  - ${p}`).join('\n') +
        `\nexpected: ${formatSignature(inputs)}\ngiven:    ${formatSignature(given)}`,
    );
  }
  return dims;
}

function shapeProblems(
  input: ValueInfo,
  shape: readonly number[],
  dims: Record<string, number>,
  boundBy: Record<string, string>,
): string[] {
  if (input.shape.length === 0) return [];
  // Built only on failure: this check runs on every model call.
  const mismatch = () =>
    `input "${input.name}": expected shape ${formatShape(input.shape.map(formatDim))}, got ${formatShape(shape)}`;
  if (shape.length !== input.shape.length) return [mismatch()];
  const problems: string[] = [];
  let sizesDiffer = false;
  input.shape.forEach((expected, axis) => {
    const actual = shape[axis] as number;
    if (typeof expected === 'number') {
      if (expected !== actual && !sizesDiffer) {
        sizesDiffer = true;
        problems.push(mismatch());
      }
    } else if (typeof expected === 'string') {
      const bound = dims[expected];
      if (bound === undefined) {
        dims[expected] = actual;
        boundBy[expected] = input.name;
      } else if (bound !== actual) {
        problems.push(
          `dimension "${expected}" is ${bound} in input "${boundBy[expected]}" but ${actual} in input "${input.name}"`,
        );
      }
    }
  });
  return problems;
}

/** Throws ModelSignatureError naming the requested outputs the model does not have. */
export function validateOutputNames(
  outputs: readonly ValueInfo[],
  requested: readonly string[],
  options: SignatureCheckOptions = {},
): void {
  const known = new Set(outputs.map((o) => o.name));
  const unknown = requested.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ModelSignatureError(
      `${modelPrefix(options)}: unknown output${unknown.length > 1 ? 's' : ''} ${unknown
        .map((n) => `"${n}"`)
        .join(', ')}; the model's outputs are: ${formatSignature(outputs)}`,
    );
  }
}
