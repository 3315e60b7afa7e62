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
 *
 * Economic modules (each module's keys.ts builds its keys; binary parts are big-endian):
 *
 * | prefix                                             | owner      | value                                              |
 * | -------------------------------------------------- | ---------- | -------------------------------------------------- |
 * | epochs/state                                       | epochs     | EpochState {epoch, startHeight}                    |
 * | staking/op/<operator 20B>                          | staking    | Operator {tokens, shares, validatorPubKey?, ...}   |
 * | staking/del/<delegator 20B><operator 20B>          | staking    | Delegation {shares}                                |
 * | staking/key/<consensus pubkey 32B>                 | staking    | operator address (one owner per consensus key)     |
 * | staking/rank/<U128_MAX-tokens 16B><pubkey 32B>     | staking    | operator address (validator candidates, set order) |
 * | staking/ubd/<completion height 8B><delegator><op>  | staking    | Unbonding {amount} (queue read in endBlock)        |
 * | staking/ubdby/<delegator 20B><height 8B><op 20B>   | staking    | 0x01 (per-delegator index of staking/ubd/)         |
 * | staking/total, staking/managed, staking/kept       | staking    | bonded total; stake drives the set; set kept since |
 * | oracle/report/<reporter 20B>                       | oracle     | PriceReport {price µUSD/GW, height}                |
 * | oracle/ema                                         | oracle     | OracleEma {ema µUSD/GW, height}                    |
 * | credits/bal/<address 20B>                          | credits    | Data Credit balance (u128; absent when 0)          |
 * | credits/epoch/<epoch 8B>, credits/total            | credits    | CreditTotals {tokensBurned, dcMinted, dcBurned}    |
 * | devices/dev/<device pubkey 32B>                    | devices    | DeviceRecord {owner, kind, maker, status, ...}     |
 * | devices/owner/<owner 20B><device 32B>              | devices    | kind (u8): owner index                             |
 * | devices/count/<owner 20B>                          | devices    | devices not retired (u64)                          |
 * | devices/maker/<name>                               | devices    | MakerRecord {pubKey, approvedHeight, revoked?, n}  |
 * | rewards/c/<epoch 8B><recipient 20B><pool 1B><device 32B><reason> | rewards | Contribution {units, weighted} |
 * | rewards/t/<epoch 8B>                               | rewards    | weighted units per work pool                       |
 * | rewards/e/<epoch 8B>                               | rewards    | EpochRecord {root, count, pools, minted, ...}      |
 * | rewards/b/<epoch 8B><chunk 4B>                     | rewards    | claimed bits of 8,192 manifest lines               |
 * | rewards/emitted, rewards/prune                     | rewards    | total emission; next epoch to prune                |
 * | gov/next, gov/prop/<id 8B>                         | gov        | next id; Proposal                                  |
 * | gov/vote/<id 8B><voter 20B>                        | gov        | Vote {option, weight at tally}                     |
 * | gov/end/<end height 8B><id 8B>                     | gov        | proposals whose voting ends at that height         |
 * | penalties/f/<device 32B>                           | penalties  | FaultRecord {windowStart, count, total, ...}       |
 * | penalties/s/<id 8B>                                | penalties  | SlashRecord {operator, device, amount, reason, ...}|
 * | penalties/by/<operator 20B><id 8B>                 | penalties  | 0x01 (an operator's slashes)                       |
 * | penalties/q/<release height 8B><id 8B>             | penalties  | 0x01 (burn queue, read in endBlock)                |
 * | penalties/e/<sha256(evidence)>, penalties/x/<offence hash> | penalties | slash id: evidence / offence already used  |
 * | penalties/next                                     | penalties  | next slash id (u64)                                |
 * | market/next/order, market/next/lease               | market     | next order id, next lease id (u64)                 |
 * | market/o/<order 8B>                                | market     | OrderRecord {customer, spec, escrow, status, ...}  |
 * | market/b/<order 8B><provider 20B>                  | market     | BidRecord {device, price, deposit, height, rep}    |
 * | market/l/<lease 8B>                                | market     | LeaseRecord {order, provider, price, paid, ...}    |
 * | market/ol/<order 8B><lease 8B>                     | market     | 0x01: an order's leases                            |
 * | market/p/<provider 20B>                            | market     | ProviderRecord {hostUri, attributes, α, β, ...}    |
 * | market/pl/<provider 20B><lease 8B>, market/pa/...  | market     | 0x01: a provider's leases; its active leases       |
 * | market/pb/<provider 20B><order 8B>                 | market     | 0x01: a provider's bids (standing or lost)         |
 * | market/co/<customer 20B><order 8B>                 | market     | 0x01: a customer's orders                          |
 * | market/open/<order 8B>                             | market     | 0x01: orders taking bids                           |
 * | market/w/<height 8B><order 8B>                     | market     | 0x01: orders to look at in that block's end        |
 * | market/u/<device 32B>                              | market     | DeviceUsage: resources its active leases hold      |
 * | storage/d/<order 8B>                               | storage    | DealRecord {customer, k, m, shards[{lease, root}]} |
 * | storage/active/<order 8B>                          | storage    | 0x01: deals with an active shard                   |
 * | storage/cd/<customer 20B><order 8B>                | storage    | 0x01: a customer's deals                           |
 * | storage/ps/<provider 20B><order 8B><shard 1B>      | storage    | 0x01: a provider's active shards                   |
 * | storage/lease/<lease 8B>                           | storage    | 0x01: the lease holds a shard                      |
 * | storage/period, storage/seed/<period 8B>           | storage    | latest drawn period; its seed (last app hash)      |
 * | storage/due/<period 8B><provider 20B><order 8B><shard 1B> | storage | 0x01: a challenge not answered yet        |
 * | storage/rdue/<period 8B><order 8B>                 | storage    | RetrievalDue {shard, leaf, checker}                |
 * | testvertical/seq/<device 32B>                      | testvertical | last accepted report seq (u64)                   |
 * | testvertical/r/<device 32B><seq 8B>                | testvertical | SHA-256 of the accepted report's sign bytes      |
 *
 * Block artifacts (node-side, not state, table `artifacts`): rewards/<epoch 8B>/meta and
 * rewards/<epoch 8B>/<chunk 4B> — the reward manifest's lines.
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
