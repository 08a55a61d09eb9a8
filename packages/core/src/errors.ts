/**
 * Typed errors. Every error says what was expected and what was given, so a
 * user can fix the call without reading the source. `isInstance` checks the
 * brand rather than the prototype, so it survives duplicate installs of core.
 */

const BRAND = Symbol.for('noiserefine.error');

export interface ErrorOptions {
  cause?: unknown;
}

export class NoiseRefineError extends Error {
  readonly [BRAND] = true;
  override readonly name: string = 'NoiseRefineError';

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }

  static isInstance(value: unknown): value is NoiseRefineError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** Shapes formatted the way users read them: [2, 4, 64, 64]. */
export function formatShape(shape: readonly number[] | readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

export class ShapeMismatchError extends NoiseRefineError {
  override readonly name = 'ShapeMismatchError';
  constructor(
    readonly what: string,
    readonly expected: readonly (number | string)[] | string,
    readonly actual: readonly number[],
    options?: ErrorOptions,
  ) {
    const exp = typeof expected === 'string' ? expected : formatShape(expected);
    super(`${what}: expected shape ${exp}, got ${formatShape(actual)}`, options);
  }
}

export class InvalidConfigError extends NoiseRefineError {
  override readonly name = 'InvalidConfigError';
  constructor(
    readonly key: string,
    readonly expected: string,
    readonly actual: unknown,
    options?: ErrorOptions & { source?: string },
  ) {
    const where = options?.source ? ` in ${options.source}` : '';
    super(
      `Invalid config key "${key}"${where}: expected ${expected}, got ${JSON.stringify(actual)}`,
      options,
    );
  }
}

export class UnsupportedOptionError extends NoiseRefineError {
  override readonly name = 'UnsupportedOptionError';
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly supported: readonly unknown[] | string,
    options?: ErrorOptions & { context?: string },
  ) {
    const list =
      typeof supported === 'string' ? supported : supported.map((s) => JSON.stringify(s)).join(', ');
    const ctx = options?.context ? `${options.context}: ` : '';
    super(`${ctx}unsupported ${option} ${JSON.stringify(value)}; supported: ${list}`, options);
  }
}

export class NonFiniteError extends NoiseRefineError {
  override readonly name = 'NonFiniteError';
  constructor(
    readonly what: string,
    readonly index: number,
    readonly value: number,
    options?: ErrorOptions,
  ) {
    super(
      `${what} contains a non-finite value (${value}) at flat index ${index}; expected only finite numbers`,
      options,
    );
  }
}

export class InvalidArgumentError extends NoiseRefineError {
  override readonly name = 'InvalidArgumentError';
}

export class BackendMismatchError extends NoiseRefineError {
  override readonly name = 'BackendMismatchError';
  constructor(expected: string, actual: string, options?: ErrorOptions) {
    super(
      `tensors from different backends cannot be combined: expected "${expected}", got "${actual}"`,
      options,
    );
  }
}

export class DisposedTensorError extends NoiseRefineError {
  override readonly name = 'DisposedTensorError';
  constructor(shape: readonly number[], backend: string, options?: ErrorOptions) {
    super(`tensor of shape ${formatShape(shape)} on backend "${backend}" was used after dispose()`, options);
  }
}

/** A backend or capability is not available (missing package, execution provider, gradient support). */
export class UnsupportedCapabilityError extends NoiseRefineError {
  override readonly name = 'UnsupportedCapabilityError';
}

/** A backend built against another version of the backend interface. */
export class BackendVersionError extends NoiseRefineError {
  override readonly name = 'BackendVersionError';
  constructor(backend: string, expected: number, actual: unknown, options?: ErrorOptions) {
    super(
      `backend "${backend}" implements backend API version ${String(actual)}, this core expects ${expected}; install matching versions of @noiserefine/core and the adapter`,
      options,
    );
  }
}

/** A model file is missing, unreadable or corrupt. */
export class ModelLoadError extends NoiseRefineError {
  override readonly name = 'ModelLoadError';
  constructor(
    readonly file: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot load model "${file}": ${reason}`, options);
  }
}

/** A model's inputs or outputs do not match what the caller or the family needs. */
export class ModelSignatureError extends NoiseRefineError {
  override readonly name = 'ModelSignatureError';
}

/** An ONNX operator the executing backend cannot run. */
export class UnsupportedOperatorError extends NoiseRefineError {
  override readonly name = 'UnsupportedOperatorError';
  constructor(
    readonly opType: string,
    readonly nodeName: string,
    readonly backend: string,
    options?: ErrorOptions,
  ) {
    super(
      `ONNX operator "${opType}" (node "${nodeName}") is not supported by the ${backend} backend`,
      options,
    );
  }
}

export class AbortError extends NoiseRefineError {
  override readonly name = 'AbortError';
}
