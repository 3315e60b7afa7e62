/**
 * staking's state keys (ASCII prefix `staking/...`, then binary parts; listed in chain/keys.ts).
 *
 * | prefix                                                  | value                                  |
 * | ------------------------------------------------------- | -------------------------------------- |
 * | staking/op/<operator 20B>                               | Operator (pool, key, moniker, jail)    |
 * | staking/del/<delegator 20B><operator 20B>               | Delegation {shares}                    |
 * | staking/key/<consensus pubkey 32B>                      | operator address (a key has one owner) |
 * | staking/rank/<u128 max-tokens 16B><pubkey 32B>          | operator address (validator candidates)|
 * | staking/ubd/<completion height 8B><delegator><operator> | Unbonding {amount}                     |
 * | staking/ubdby/<delegator 20B><height 8B><operator 20B>  | empty (per-delegator index of ubd/)    |
 * | staking/total                                           | total bonded tokens (u128)             |
 * | staking/managed                                         | 1 byte: staking computes the val. set  |
 * | staking/kept                                            | height the computed set became empty   |
 *
 * `rank/` holds every non-jailed operator with a consensus key, ordered by tokens descending
 * (the key stores U128_MAX - tokens, big-endian) then by public key: the validator set is the
 * first `maxValidators` entries with enough tokens, read without scanning all operators.
 */
import { concat, u64be, utf8, type Bytes } from '../../../core/bytes.js';
import { U128_MAX } from '../../../core/codec.js';

export const OPERATOR_PREFIX = utf8('staking/op/');
export const DELEGATION_PREFIX = utf8('staking/del/');
export const CONSENSUS_KEY_PREFIX = utf8('staking/key/');
export const RANK_PREFIX = utf8('staking/rank/');
export const UNBONDING_PREFIX = utf8('staking/ubd/');
export const UNBONDING_BY_DELEGATOR_PREFIX = utf8('staking/ubdby/');
export const TOTAL_BONDED_KEY = utf8('staking/total');
export const MANAGED_KEY = utf8('staking/managed');
export const KEPT_KEY = utf8('staking/kept');

export function operatorKey(operator: Bytes): Bytes {
  return concat(OPERATOR_PREFIX, operator);
}

export function delegationKey(delegator: Bytes, operator: Bytes): Bytes {
  return concat(DELEGATION_PREFIX, delegator, operator);
}

/** All delegations of one delegator (a key prefix). */
export function delegationsOfPrefix(delegator: Bytes): Bytes {
  return concat(DELEGATION_PREFIX, delegator);
}

export function consensusKeyKey(pubKey: Bytes): Bytes {
  return concat(CONSENSUS_KEY_PREFIX, pubKey);
}

function u128be(v: bigint): Bytes {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, v >> 64n);
  view.setBigUint64(8, v & 0xffff_ffff_ffff_ffffn);
  return out;
}

export function rankKey(tokens: bigint, pubKey: Bytes): Bytes {
  return concat(RANK_PREFIX, u128be(U128_MAX - tokens), pubKey);
}

/** Tokens encoded in a rank key. */
export function tokensOfRankKey(key: Bytes): bigint {
  const view = new DataView(key.buffer, key.byteOffset + RANK_PREFIX.length, 16);
  return U128_MAX - ((view.getBigUint64(0) << 64n) | view.getBigUint64(8));
}

export function unbondingKey(completion: bigint, delegator: Bytes, operator: Bytes): Bytes {
  return concat(UNBONDING_PREFIX, u64be(completion), delegator, operator);
}

/** The exclusive end of the unbonding entries that complete at or before `height`. */
export function unbondingEndAt(height: bigint): Bytes {
  return concat(UNBONDING_PREFIX, u64be(height + 1n));
}

export function unbondingByDelegatorKey(delegator: Bytes, completion: bigint, operator: Bytes): Bytes {
  return concat(UNBONDING_BY_DELEGATOR_PREFIX, delegator, u64be(completion), operator);
}

export function unbondingByDelegatorPrefix(delegator: Bytes): Bytes {
  return concat(UNBONDING_BY_DELEGATOR_PREFIX, delegator);
}
