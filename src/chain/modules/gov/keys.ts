/**
 * gov state keys (ASCII prefix, then big-endian binary parts, so proposals iterate in id order,
 * a proposal's votes in voter order and the end index in height order).
 *
 * | prefix                                   | value                                           |
 * | ---------------------------------------- | ----------------------------------------------- |
 * | gov/next                                 | u64: the id the next proposal gets (first is 1) |
 * | gov/prop/<id u64>                        | Proposal (content, deposit, status, tally...)   |
 * | gov/vote/<id u64><voter 20B>             | Vote {option, weight counted at the tally}      |
 * | gov/end/<end height u64><id u64>         | 0x01: proposals whose voting ends at that height |
 *
 * Module accounts: moduleAddress('gov') holds the deposits in escrow; moduleAddress('treasury')
 * is the treasury.
 */
import { concat, utf8, type Bytes } from '../../../core/bytes.js';

export const GOV_NEXT_ID_KEY = utf8('gov/next');
export const GOV_PROPOSAL_PREFIX = utf8('gov/prop/');
export const GOV_VOTE_PREFIX = utf8('gov/vote/');
export const GOV_END_PREFIX = utf8('gov/end/');

/** A u64 as 8 big-endian bytes (key order = numeric order). */
export function u64be(v: bigint): Bytes {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v);
  return b;
}

export function proposalKey(id: bigint): Bytes {
  return concat(GOV_PROPOSAL_PREFIX, u64be(id));
}

/** Where the votes of proposal `id` start (voter addresses follow). */
export function votePrefix(id: bigint): Bytes {
  return concat(GOV_VOTE_PREFIX, u64be(id));
}

export function voteKey(id: bigint, voter: Bytes): Bytes {
  return concat(GOV_VOTE_PREFIX, u64be(id), voter);
}

/** Where the entries for proposals ending at `height` start (ids follow). */
export function endPrefix(height: bigint): Bytes {
  return concat(GOV_END_PREFIX, u64be(height));
}

export function endKey(height: bigint, id: bigint): Bytes {
  return concat(GOV_END_PREFIX, u64be(height), u64be(id));
}
