/**
 * Session creation with execution-provider fallback. A provider that cannot
 * start (no GPU, CUDA libraries absent, no WebGPU adapter) makes the whole
 * session fail; the model is then retried on the backend's CPU provider. Only
 * if that succeeds was the provider at fault: the caller gets a warning, or a
 * typed error in strict mode. A model that fails on the CPU provider too is
 * reported as a load error with the runtime's reason.
 */
import { ModelLoadError, UnsupportedCapabilityError } from '@noiserefine/core';
import {
  createSession,
  type ExecutionProvider,
  type OrtRuntime,
  type OrtSession,
  type OrtSessionOptions,
  providerName,
} from './runtime';

export interface OpenSessionRequest {
  runtime: OrtRuntime;
  /** The adapter's name, for messages. */
  backend: string;
  label: string;
  model: string | Uint8Array;
  options: OrtSessionOptions;
  providers: readonly ExecutionProvider[];
  fallback: ExecutionProvider;
  strict: boolean;
  /** Providers found unavailable by earlier loads of this backend (filled in here). */
  unavailable: Set<string>;
  warn(message: string): void;
}

export interface OpenedSession {
  session: OrtSession;
  /** The providers the session was created with. */
  providers: string[];
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.trim() : String(error);
}

function quoteList(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}

export async function openSession(request: OpenSessionRequest): Promise<OpenedSession> {
  const { runtime, label, model, options, fallback } = request;
  const fallbackName = providerName(fallback);
  const wanted = request.providers.filter((p) => !request.unavailable.has(providerName(p)));
  const attempt = wanted.length > 0 ? wanted : [fallback];
  const attemptNames = attempt.map(providerName);
  const open = (providers: readonly ExecutionProvider[]) =>
    createSession(runtime, model, { ...options, executionProviders: providers });

  let firstError: unknown;
  try {
    return { session: await open(attempt), providers: attemptNames };
  } catch (error) {
    if (attemptNames.length === 1 && attemptNames[0] === fallbackName) {
      throw new ModelLoadError(label, reasonOf(error), { cause: error });
    }
    firstError = error;
  }

  let session: OrtSession;
  try {
    session = await open([fallback]);
  } catch (error) {
    throw new ModelLoadError(label, reasonOf(error), { cause: error });
  }
  const what = `${request.backend}: execution provider${attemptNames.length > 1 ? 's' : ''} ${quoteList(attemptNames)}`;
  const reason = reasonOf(firstError).split('\n')[0];
  if (request.strict) {
    await session.release();
    throw new UnsupportedCapabilityError(
      `${what} unavailable (the model loads with "${fallbackName}"): ${reason}`,
      { cause: firstError },
    );
  }
  for (const name of attemptNames) request.unavailable.add(name);
  request.warn(
    `${what} unavailable, falling back to "${fallbackName}" (${reason}); pass strict: true to fail instead`,
  );
  return { session, providers: [fallbackName] };
}
