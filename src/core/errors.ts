/**
 * Error classes. Every error Groundwork raises has a stable machine-readable `code` and a short
 * human message; `details` and `cause` carry what a developer needs. The CLI prints the message
 * and exits non-zero; the API maps the code to a 4xx body. Nothing user-facing throws a bare
 * `Error` (lint enforces this).
 */

export interface ErrorOptions {
  details?: string | undefined;
  cause?: unknown;
}

export class GroundworkError extends Error {
  override name = 'GroundworkError';
  readonly code: string;
  readonly details: string | undefined;

  constructor(code: string, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.details = opts.details;
  }
}

/** Malformed input from a user or a peer (bad hex, bad address, bad amount string...). */
export class InvalidInputError extends GroundworkError {
  override name = 'InvalidInputError';
}

/** Bytes that do not decode under a canonical codec. */
export class CodecError extends GroundworkError {
  override name = 'CodecError';
  constructor(message: string, opts: ErrorOptions = {}) {
    super('CODEC', message, opts);
  }
}

/** A broken internal invariant: a bug, never a user mistake. */
export class InvariantError extends GroundworkError {
  override name = 'InvariantError';
  constructor(message: string, opts: ErrorOptions = {}) {
    super('INVARIANT', message, opts);
  }
}

/**
 * An error raised by the state machine. `codespace` + numeric `abciCode` is what a tx result,
 * CometBFT and the API report; `kind` is the stable name (e.g. INSUFFICIENT_FUNDS).
 */
export class ChainError extends GroundworkError {
  override name = 'ChainError';
  readonly codespace: string;
  readonly abciCode: number;
  readonly kind: string;

  constructor(codespace: string, abciCode: number, kind: string, message: string, opts: ErrorOptions = {}) {
    super(`${codespace}.${kind}`, message, opts);
    this.codespace = codespace;
    this.abciCode = abciCode;
    this.kind = kind;
  }
}

export interface ErrorKind {
  readonly codespace: string;
  readonly code: number;
  readonly kind: string;
  readonly summary: string;
  /** Builds the error; `message` defaults to the summary. */
  (message?: string, opts?: ErrorOptions): ChainError;
  is(e: unknown): e is ChainError;
}

const registry = new Map<string, ErrorKind>();

/** Every chain error kind registered so far, sorted by codespace then code (for docs and clients). */
export function allErrorKinds(): ErrorKind[] {
  return [...registry.values()].sort((a, b) =>
    a.codespace === b.codespace ? a.code - b.code : a.codespace < b.codespace ? -1 : 1,
  );
}

/**
 * Declares the error table of one codespace. Codes are stable forever once released: they are
 * what clients match on. Code 0 means success and cannot be used.
 */
export function defineErrors<const T extends Record<string, readonly [number, string]>>(
  codespace: string,
  table: T,
): { readonly [K in keyof T]: ErrorKind } {
  const out: Record<string, ErrorKind> = {};
  for (const [kind, [code, summary]] of Object.entries(table)) {
    const id = `${codespace}/${code}`;
    if (code <= 0 || registry.has(id)) throw new InvariantError(`duplicate or invalid error code ${id}`);
    const make = ((message?: string, opts?: ErrorOptions) =>
      new ChainError(codespace, code, kind, message ?? summary, opts)) as ErrorKind;
    Object.defineProperties(make, {
      codespace: { value: codespace },
      code: { value: code },
      kind: { value: kind },
      summary: { value: summary },
      is: { value: (e: unknown) => e instanceof ChainError && e.codespace === codespace && e.abciCode === code },
    });
    registry.set(id, make);
    out[kind] = make;
  }
  return out as { readonly [K in keyof T]: ErrorKind };
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
