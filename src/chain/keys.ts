/**
 * Every state key prefix, in one place. Keys are ASCII prefixes followed by binary parts, so
 * they read well in an explorer and iterate in a useful order.
 *
 * | prefix                   | owner     | value                                   |
 * | ------------------------ | --------- | --------------------------------------- |
 * | chain/id                 | app       | chain id (string)                       |
 * | chain/validators         | app       | validator set (list<Validator>)         |
 * | params/<module>          | <module>  | module parameters (module codec)        |
 * | bank/acct/<address 20B>  | bank      | Account {sequence, balance}             |
 * | bank/supply              | bank      | total supply of the native token (u128) |
 */
import { toKeyString, utf8, type Bytes } from '../core/bytes.js';

export const CHAIN_ID_KEY = utf8('chain/id');
export const VALIDATORS_KEY = utf8('chain/validators');

const paramsKeys = new Map<string, Bytes>();

export function paramsKey(module: string): Bytes {
  let k = paramsKeys.get(module);
  if (!k) {
    k = utf8(`params/${module}`);
    paramsKeys.set(module, k);
  }
  return k;
}

export const BANK_ACCOUNT_PREFIX = utf8('bank/acct/');
export const BANK_SUPPLY_KEY = utf8('bank/supply');

const BANK_ACCOUNT_PREFIX_S = 'bank/acct/';

/** The account key as a latin1 string (the state machine's fast path). */
export function bankAccountKeyS(address: Bytes): string {
  return BANK_ACCOUNT_PREFIX_S + toKeyString(address);
}

export function bankAccountKey(address: Bytes): Bytes {
  const k = Buffer.allocUnsafe(BANK_ACCOUNT_PREFIX.length + address.length);
  k.set(BANK_ACCOUNT_PREFIX, 0);
  k.set(address, BANK_ACCOUNT_PREFIX.length);
  return k;
}

/** The exclusive upper bound of all keys starting with `prefix` (for range iteration). */
export function prefixEnd(prefix: Bytes): Bytes | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}
