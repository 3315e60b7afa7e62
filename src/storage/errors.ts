/**
 * Errors of the client-side file pipeline. Malformed input (a bad manifest, k/m out of range, a
 * key of the wrong length) is core's InvalidInputError; what goes wrong while encoding or
 * decoding a file is a StorageError with one of these codes:
 *   SIZE_MISMATCH      the input held more or fewer bytes than the size it was announced with
 *   NOT_ENOUGH_SHARDS  fewer than k pieces of a segment could be fetched and verified
 *   DECRYPT_FAILED     a segment failed AES-GCM authentication (wrong key or tampered data)
 *   SHA256_MISMATCH    the decoded file's SHA-256 is not the manifest's
 *   OUTPUT_CLOSED      the stream the file was being decoded into closed before the end
 */
import { GroundworkError, type ErrorOptions } from '../core/errors.js';

export type StorageErrorCode = 'SIZE_MISMATCH' | 'NOT_ENOUGH_SHARDS' | 'DECRYPT_FAILED' | 'SHA256_MISMATCH' | 'OUTPUT_CLOSED';

export class StorageError extends GroundworkError {
  override name = 'StorageError';
  declare readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, opts: ErrorOptions = {}) {
    super(code, message, opts);
  }
}

/**
 * A customer flow that buys an order (put, repair) failed. `order` is the order it made, if any;
 * `orderClosed` whether that order was closed again (its escrow refunded). Subclasses name their
 * codes.
 */
export class OrderFlowError<C extends string = string> extends GroundworkError {
  declare readonly code: C;
  order: bigint | undefined;
  orderClosed = false;

  constructor(code: C, message: string, opts: ErrorOptions & { order?: bigint } = {}) {
    super(code, message, opts);
    this.order = opts.order;
  }
}
