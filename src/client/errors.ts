/**
 * SDK errors. Each has a stable `code`, a short `message` for people (the CLI prints it as is),
 * and `details`/`cause` for developers.
 */
import { GroundworkError, type ErrorOptions } from '../core/errors.js';

export class ClientError extends GroundworkError {
  override name = 'ClientError';
}

/** The node could not be reached (connection refused, DNS, timeout). */
export class NodeUnreachableError extends ClientError {
  override name = 'NodeUnreachableError';
  constructor(readonly url: string, opts: ErrorOptions = {}) {
    super('NODE_UNREACHABLE', `cannot reach the node at ${url}; is it running? (start one with "groundwork node start", or pass --node)`, opts);
  }
}

/** The API answered with an error body. */
export class ApiResponseError extends ClientError {
  override name = 'ApiResponseError';
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(code, message);
  }
}

/** The mempool refused a tx (bad sequence, fee, signature, funds...). */
export class TxRejectedError extends ClientError {
  override name = 'TxRejectedError';
  constructor(
    readonly hash: string,
    readonly codespace: string,
    readonly abciCode: number,
    kind: string,
    message: string,
  ) {
    super(`${codespace}.${kind}`, `tx rejected: ${message}`);
  }
}

/** The tx was committed but failed (its messages were rolled back; the fee was spent). */
export class TxFailedError extends ClientError {
  override name = 'TxFailedError';
  constructor(
    readonly hash: string,
    readonly height: bigint,
    readonly codespace: string,
    readonly abciCode: number,
    kind: string,
    message: string,
  ) {
    super(`${codespace}.${kind}`, `tx ${hash} failed in block ${height}: ${message}`);
  }
}

/** What the node sent does not verify against the trusted chain: do not use it. */
export class VerificationError extends ClientError {
  override name = 'VerificationError';
  constructor(message: string, opts: ErrorOptions = {}) {
    super('VERIFICATION_FAILED', `response failed verification: ${message}`, opts);
  }
}

export class TimeoutError extends ClientError {
  override name = 'TimeoutError';
  constructor(message: string) {
    super('TIMEOUT', message);
  }
}
