/**
 * penalties state keys (ASCII prefix, then binary parts; see src/chain/keys.ts for the table).
 *
 * | prefix                                   | value                                                  |
 * | ---------------------------------------- | ------------------------------------------------------ |
 * | penalties/f/<device 32B>                 | FaultRecord {windowStart, count, total, last...}       |
 * | penalties/s/<id u64>                     | SlashRecord (operator, device, amount, evidence, ...)  |
 * | penalties/by/<operator 20B><id u64>      | index of an operator's slashes (value: one byte)       |
 * | penalties/q/<releaseHeight u64><id u64>  | burn queue: slashes held in escrow, by release height  |
 * | penalties/e/<sha256(evidence) 32B>       | u64 slash id: this evidence was used                    |
 * | penalties/x/<sha256(kind, offence) 32B>  | u64 slash id: this offence was punished                 |
 * | penalties/next                           | u64: the id the next slash gets                        |
 *
 * Heights and ids are big-endian, so the queue iterates in release order and an operator's
 * slashes in id order.
 */
import { concat, u64be, utf8, type Bytes } from '../../../core/bytes.js';

export const FAULT_PREFIX = utf8('penalties/f/');
export const SLASH_PREFIX = utf8('penalties/s/');
export const BY_OPERATOR_PREFIX = utf8('penalties/by/');
export const QUEUE_PREFIX = utf8('penalties/q/');
export const EVIDENCE_PREFIX = utf8('penalties/e/');
export const OFFENCE_PREFIX = utf8('penalties/x/');
export const NEXT_ID_KEY = utf8('penalties/next');

export function faultKey(device: Bytes): Bytes {
  return concat(FAULT_PREFIX, device);
}

/** A slash record's key (also what a client reads with a Merkle proof). */
export function slashKey(id: bigint): Bytes {
  return concat(SLASH_PREFIX, u64be(id));
}

export function byOperatorPrefix(operator: Bytes): Bytes {
  return concat(BY_OPERATOR_PREFIX, operator);
}

export function byOperatorKey(operator: Bytes, id: bigint): Bytes {
  return concat(BY_OPERATOR_PREFIX, operator, u64be(id));
}

export function queueKey(releaseHeight: bigint, id: bigint): Bytes {
  return concat(QUEUE_PREFIX, u64be(releaseHeight), u64be(id));
}

/** The exclusive end of the queue entries due at or before `height`. */
export function queueEndAt(height: bigint): Bytes {
  return concat(QUEUE_PREFIX, u64be(height + 1n));
}

export function evidenceKey(hash: Bytes): Bytes {
  return concat(EVIDENCE_PREFIX, hash);
}

export function offenceKey(hash: Bytes): Bytes {
  return concat(OFFENCE_PREFIX, hash);
}
