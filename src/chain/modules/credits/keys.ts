/**
 * credits state keys.
 *
 * | prefix                       | value                                                   |
 * | ---------------------------- | ------------------------------------------------------- |
 * | credits/bal/<address 20B>    | Data Credit balance (u128; absent when zero)            |
 * | credits/epoch/<epoch u64 BE> | CreditTotals {tokensBurned, dcMinted, dcBurned} (u128s) |
 * | credits/total                | CreditTotals since genesis (genesis DC count as minted) |
 */
import { toKeyString, u64be, utf8, type Bytes } from '../../../core/bytes.js';

export const CREDITS_BALANCE_PREFIX = utf8('credits/bal/');
export const CREDITS_EPOCH_PREFIX = utf8('credits/epoch/');
export const CREDITS_TOTAL_KEY = utf8('credits/total');

const BALANCE_PREFIX_S = 'credits/bal/';
const EPOCH_PREFIX_S = 'credits/epoch/';

export function creditsBalanceKeyS(owner: Bytes): string {
  return BALANCE_PREFIX_S + toKeyString(owner);
}

/** The balance key as bytes (for verified reads through getState). */
export function creditsBalanceKey(owner: Bytes): Bytes {
  const k = new Uint8Array(CREDITS_BALANCE_PREFIX.length + owner.length);
  k.set(CREDITS_BALANCE_PREFIX, 0);
  k.set(owner, CREDITS_BALANCE_PREFIX.length);
  return k;
}

export function creditsEpochKeyS(epoch: bigint): string {
  return EPOCH_PREFIX_S + toKeyString(u64be(epoch));
}

export function creditsEpochKey(epoch: bigint): Bytes {
  const e = u64be(epoch);
  const k = new Uint8Array(CREDITS_EPOCH_PREFIX.length + e.length);
  k.set(CREDITS_EPOCH_PREFIX, 0);
  k.set(e, CREDITS_EPOCH_PREFIX.length);
  return k;
}
