/**
 * staking keeper: operators, delegations, unbonding, slashing, jail, and the validator set
 * computed from stake.
 *
 * Pools and shares (as in Cosmos x/staking). Each operator has a pool of `tokens` owned by its
 * delegators in proportion to their `shares`. Delegating `a` tokens issues a × shares / tokens
 * new shares; a slash removes tokens but no shares, so every delegator loses the same fraction.
 * Conversions round toward zero, always in the pool's favour:
 *   - delegate:   shares issued = floor(a × S / T); the fraction of a share not issued stays in
 *                 the pool, i.e. goes to the delegators already there;
 *   - undelegate: shares burned = floor(a × S / T) (all of them when `a` is the whole
 *                 delegation), tokens paid = floor(burned × T / S) <= a; the remainder stays in
 *                 the pool for the remaining delegators (the last one out takes everything);
 *   - a delegation is worth floor(shares × T / S).
 *
 * Tokens: bonded tokens sit in the bank account moduleAddress('bonded_pool') (its balance always
 * equals the sum of the pools' tokens and `staking/total`); unbonding tokens in
 * moduleAddress('unbonding_pool') until their completion height. Staking never mints or burns:
 * a slash moves tokens out of the bonded pool to an account the caller names.
 *
 * Unbonding entries are not slashable (kept simple on purpose): a fault proven after a
 * delegator undelegated cannot reach those tokens, so `unbondingBlocks` must outlast the
 * window in which faults can be proven.
 */
import { compare, equals, toHex, type Bytes } from '../../../core/bytes.js';
import { bool, decode, encode, option, string, struct, u128, u64, type Infer } from '../../../core/codec.js';
import { InvariantError } from '../../../core/errors.js';
import { encodeAddress, moduleAddress, pubKey } from '../../../core/keys.js';
import type { KVReader, KVStore } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import { VALIDATORS_KEY, prefixEnd } from '../../keys.js';
import { getParams } from '../../module.js';
import { getValidators, setValidators, validatorSetCodec, type Validator } from '../../validators.js';
import { addBalance, getAccount, subBalance, transfer } from '../bank/keeper.js';
import { isEd25519Point } from './ed25519.js';
import { StakingErrors } from './errors.js';
import type { StakingBank } from './expected.js';
import {
  DELEGATION_PREFIX,
  KEPT_KEY,
  MANAGED_KEY,
  RANK_PREFIX,
  TOTAL_BONDED_KEY,
  UNBONDING_PREFIX,
  consensusKeyKey,
  delegationKey,
  delegationsOfPrefix,
  operatorKey,
  rankKey,
  tokensOfRankKey,
  unbondingByDelegatorKey,
  unbondingEndAt,
  unbondingKey,
} from './keys.js';
import { stakingParams, type StakingParams } from './params.js';

export const BONDED_POOL = moduleAddress('bonded_pool');
export const UNBONDING_POOL = moduleAddress('unbonding_pool');

/** CometBFT refuses a validator set whose total power exceeds MaxInt64 / 8. */
export const MAX_TOTAL_POWER = (1n << 63n) / 8n - 1n;

const bank: StakingBank = {
  balanceOf: (store, a) => getAccount(store, a).balance,
  transfer,
};

// ---- state --------------------------------------------------------------------------------

export const operatorCodec = struct('Operator', {
  /** Tokens in the pool (ugw), all delegators together. */
  tokens: u128,
  /** Shares issued to the delegators. */
  shares: u128,
  /** Consensus (CometBFT) Ed25519 key; null until declared with staking/set-validator. */
  validatorPubKey: option(pubKey),
  moniker: string(64, 'moniker'),
  jailed: bool,
  /** First height at which a jailed operator may unjail. */
  jailedUntil: u64,
});
export type Operator = Infer<typeof operatorCodec>;

export const delegationCodec = struct('Delegation', { shares: u128 });
export type Delegation = Infer<typeof delegationCodec>;

export const unbondingCodec = struct('Unbonding', { amount: u128 });

export function getOperator(store: KVReader, operator: Bytes): Operator | undefined {
  const b = store.get(operatorKey(operator));
  return b ? decode(operatorCodec, b) : undefined;
}

/** In the rank index: may be a validator, bond permitting. */
function ranked(op: Operator): op is Operator & { validatorPubKey: Bytes } {
  return !op.jailed && op.validatorPubKey !== null && op.tokens > 0n;
}

/** Writes an operator (undefined: deletes it), keeping the rank and consensus-key indexes in step. */
function putOperator(store: KVStore, address: Bytes, before: Operator | undefined, after: Operator | undefined): void {
  if (before && ranked(before)) store.delete(rankKey(before.tokens, before.validatorPubKey));
  if (before?.validatorPubKey && !(after?.validatorPubKey && equals(after.validatorPubKey, before.validatorPubKey))) {
    store.delete(consensusKeyKey(before.validatorPubKey));
  }
  if (!after) {
    store.delete(operatorKey(address));
    return;
  }
  if (after.validatorPubKey) store.set(consensusKeyKey(after.validatorPubKey), address);
  if (ranked(after)) store.set(rankKey(after.tokens, after.validatorPubKey), address);
  store.set(operatorKey(address), encode(operatorCodec, after));
}

/** An operator nobody delegates to any more and that is not jailed leaves no record (its key is freed). */
function putOrPrune(store: KVStore, address: Bytes, before: Operator, after: Operator): void {
  const empty = after.shares === 0n && after.tokens === 0n && !after.jailed;
  putOperator(store, address, before, empty ? undefined : after);
}

export function getDelegation(store: KVReader, delegator: Bytes, operator: Bytes): Delegation | undefined {
  const b = store.get(delegationKey(delegator, operator));
  return b ? decode(delegationCodec, b) : undefined;
}

function setDelegationShares(store: KVStore, delegator: Bytes, operator: Bytes, shares: bigint): void {
  const k = delegationKey(delegator, operator);
  if (shares === 0n) store.delete(k);
  else store.set(k, encode(delegationCodec, { shares }));
}

function setTotalBonded(store: KVStore, v: bigint): void {
  store.set(TOTAL_BONDED_KEY, encode(u128, v));
}

/** What `shares` of the operator's pool are worth: floor(shares × T / S). */
export function tokensOfShares(op: Operator, shares: bigint): bigint {
  if (op.shares === 0n) return 0n;
  return (shares * op.tokens) / op.shares; // rounds toward zero; the remainder stays in the pool
}

export function stakingParamsOf(store: KVReader): StakingParams {
  return getParams(store, 'staking', stakingParams);
}

// ---- the interface other modules use (CONTRACTS.md) ------------------------------------------

/** The operator's pool tokens (all its delegations together), 0 for no operator. */
export function bondedTokensOf(store: KVReader, operator: Bytes): bigint {
  return getOperator(store, operator)?.tokens ?? 0n;
}

/** What the operator's delegation to itself is worth. */
export function selfBondOf(store: KVReader, operator: Bytes): bigint {
  const op = getOperator(store, operator);
  const d = op && getDelegation(store, operator, operator);
  return op && d ? tokensOfShares(op, d.shares) : 0n;
}

/** The sum of what the delegator's delegations are worth (its weight, e.g. in governance). */
export function votingPowerOf(store: KVReader, delegator: Bytes): bigint {
  const prefix = delegationsOfPrefix(delegator);
  let total = 0n;
  for (const [k, v] of store.iterate(prefix, prefixEnd(prefix))) {
    const op = getOperator(store, k.subarray(prefix.length));
    if (op) total += tokensOfShares(op, decode(delegationCodec, v).shares);
  }
  return total;
}

export function totalBonded(store: KVReader): bigint {
  const b = store.get(TOTAL_BONDED_KEY);
  return b ? decode(u128, b) : 0n;
}

/** Every delegation in key order (delegator, then operator), with what it is worth now. */
export function* iterateDelegations(store: KVReader): Iterable<{ delegator: Bytes; operator: Bytes; tokens: bigint }> {
  const n = DELEGATION_PREFIX.length;
  let cached: { address: Bytes; op: Operator | undefined } | undefined;
  for (const [k, v] of store.iterate(DELEGATION_PREFIX, prefixEnd(DELEGATION_PREFIX))) {
    const delegator = k.slice(n, n + 20);
    const operator = k.slice(n + 20, n + 40);
    if (!cached || !equals(cached.address, operator)) cached = { address: operator, op: getOperator(store, operator) };
    const tokens = cached.op ? tokensOfShares(cached.op, decode(delegationCodec, v).shares) : 0n;
    yield { delegator, operator, tokens };
  }
}

export function isJailed(store: KVReader, operator: Bytes): boolean {
  return getOperator(store, operator)?.jailed ?? false;
}

/**
 * Takes up to `amount` ugw from the operator's pool and moves it from the bonded pool to `to`.
 * Every delegator loses the same fraction (no shares are burned). Returns what was taken: 0
 * for an unknown operator, a non-positive amount or an empty pool (never throws for those, so
 * block hooks can call it). Unbonding tokens are out of reach (see the file comment).
 */
export function slash(ctx: Context, operator: Bytes, amount: bigint, to: Bytes): bigint {
  if (amount <= 0n) return 0n;
  const op = getOperator(ctx.store, operator);
  if (!op) return 0n;
  const take = amount < op.tokens ? amount : op.tokens;
  if (take === 0n) return 0n;
  bank.transfer(ctx, BONDED_POOL, to, take);
  putOperator(ctx.store, operator, op, { ...op, tokens: op.tokens - take });
  setTotalBonded(ctx.store, totalBonded(ctx.store) - take);
  ctx.emit('staking.slash', () => ({ operator: encodeAddress(operator), amount: take, recipient: encodeAddress(to), tokens: op.tokens - take }));
  return take;
}

/**
 * Reverses a slash: moves `amount` from `from` into the operator's pool (its delegators gain
 * pro rata). Throws INVALID_AMOUNT, NO_DELEGATORS (the pool has no shares: nobody to give the
 * tokens to) or bank's INSUFFICIENT_FUNDS.
 */
export function restore(ctx: Context, operator: Bytes, amount: bigint, from: Bytes): void {
  if (amount <= 0n) throw StakingErrors.INVALID_AMOUNT();
  const op = getOperator(ctx.store, operator);
  if (!op || op.shares === 0n) throw StakingErrors.NO_DELEGATORS(`operator ${encodeAddress(operator)} has no delegators; nothing to restore`);
  bank.transfer(ctx, from, BONDED_POOL, amount);
  putOperator(ctx.store, operator, op, { ...op, tokens: op.tokens + amount });
  setTotalBonded(ctx.store, totalBonded(ctx.store) + amount);
  ctx.emit('staking.restore', () => ({ operator: encodeAddress(operator), amount, sender: encodeAddress(from), tokens: op.tokens + amount }));
}

/**
 * Jails the operator until at least `untilHeight` (a later jail never shortens an earlier one).
 * A jailed operator leaves the validator set at the end of this block and stays out until it
 * sends staking/unjail at or after that height. Unknown operators are ignored.
 */
export function jail(ctx: Context, operator: Bytes, untilHeight: bigint, reason: string): void {
  const op = getOperator(ctx.store, operator);
  if (!op) return;
  const until = untilHeight > op.jailedUntil ? untilHeight : op.jailedUntil;
  putOperator(ctx.store, operator, op, { ...op, jailed: true, jailedUntil: until });
  // Event values are at most 1024 bytes; a reason is a short explanation.
  ctx.emit('staking.jail', () => ({ operator: encodeAddress(operator), until, reason: reason.length > 256 ? `${reason.slice(0, 256)}…` : reason }));
}

// ---- messages ------------------------------------------------------------------------------

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const EMPTY_OPERATOR: Operator = Object.freeze({ tokens: 0n, shares: 0n, validatorPubKey: null, moniker: '', jailed: false, jailedUntil: 0n });

/** Bonds `amount` of the delegator's tokens to the operator; delegating to oneself creates the operator. */
export function delegate(ctx: Context, delegator: Bytes, operator: Bytes, amount: bigint): void {
  if (amount <= 0n) throw StakingErrors.INVALID_AMOUNT();
  const existing = getOperator(ctx.store, operator);
  if (!existing && !equals(delegator, operator)) {
    throw StakingErrors.UNKNOWN_OPERATOR(`${encodeAddress(operator)} is not an operator; an operator is created when an account delegates to itself`);
  }
  const op = existing ?? EMPTY_OPERATOR;
  if (op.shares > 0n && op.tokens === 0n) throw StakingErrors.POOL_EMPTY(`the pool of ${encodeAddress(operator)} was slashed to zero; delegations would buy worthless shares`);
  if (op.shares === 0n && op.tokens > 0n) throw new InvariantError(`operator ${encodeAddress(operator)} has tokens but no shares`);
  // Rounds toward zero; the unissued fraction of a share stays with the pool's delegators.
  const shares = op.shares === 0n ? amount : (amount * op.shares) / op.tokens;
  if (shares === 0n) throw StakingErrors.AMOUNT_TOO_SMALL(`${amount}ugw buys less than one share of ${encodeAddress(operator)}'s pool; delegate more`);
  bank.transfer(ctx, delegator, BONDED_POOL, amount);
  const d = getDelegation(ctx.store, delegator, operator);
  setDelegationShares(ctx.store, delegator, operator, (d?.shares ?? 0n) + shares);
  putOperator(ctx.store, operator, existing, { ...op, tokens: op.tokens + amount, shares: op.shares + shares });
  setTotalBonded(ctx.store, totalBonded(ctx.store) + amount);
  ctx.emit('staking.delegate', () => ({ delegator: encodeAddress(delegator), operator: encodeAddress(operator), amount, shares }));
}

/**
 * Starts unbonding `amount` of the delegator's tokens from the operator: the tokens move to the
 * unbonding pool now (they stop counting for the validator set at the end of this block) and
 * return to the delegator at height + unbondingBlocks.
 */
export function undelegate(ctx: Context, delegator: Bytes, operator: Bytes, amount: bigint): { amount: bigint; completionHeight: bigint } {
  if (amount <= 0n) throw StakingErrors.INVALID_AMOUNT();
  const op = getOperator(ctx.store, operator);
  if (!op) throw StakingErrors.UNKNOWN_OPERATOR(`${encodeAddress(operator)} is not an operator`);
  const d = getDelegation(ctx.store, delegator, operator);
  if (!d) throw StakingErrors.INSUFFICIENT_DELEGATION(`${encodeAddress(delegator)} has no delegation to ${encodeAddress(operator)}`);
  const worth = tokensOfShares(op, d.shares);
  if (amount > worth) throw StakingErrors.INSUFFICIENT_DELEGATION(`the delegation of ${encodeAddress(delegator)} to ${encodeAddress(operator)} is worth ${worth}ugw, less than ${amount}ugw`);
  // The whole delegation burns all its shares; otherwise floor(a × S / T) shares (toward zero).
  const burned = amount === worth ? d.shares : (amount * op.shares) / op.tokens;
  // Paid: floor(burned × T / S) <= amount; the remainder stays in the pool. The last shares out take all tokens.
  const paid = burned === op.shares ? op.tokens : (burned * op.tokens) / op.shares;
  if (burned === 0n || paid === 0n) throw StakingErrors.AMOUNT_TOO_SMALL(`${amount}ugw is less than one share of ${encodeAddress(operator)}'s pool is worth; undelegate more`);
  setDelegationShares(ctx.store, delegator, operator, d.shares - burned);
  putOrPrune(ctx.store, operator, op, { ...op, tokens: op.tokens - paid, shares: op.shares - burned });
  setTotalBonded(ctx.store, totalBonded(ctx.store) - paid);
  bank.transfer(ctx, BONDED_POOL, UNBONDING_POOL, paid);
  const completionHeight = ctx.block.height + stakingParamsOf(ctx.store).unbondingBlocks;
  const k = unbondingKey(completionHeight, delegator, operator);
  const prev = ctx.store.get(k);
  ctx.store.set(k, encode(unbondingCodec, { amount: (prev ? decode(unbondingCodec, prev).amount : 0n) + paid }));
  ctx.store.set(unbondingByDelegatorKey(delegator, completionHeight, operator), Uint8Array.of(1)); // an index: the value is a placeholder
  ctx.emit('staking.undelegate', () => ({ delegator: encodeAddress(delegator), operator: encodeAddress(operator), amount: paid, shares: burned, completionHeight }));
  return { amount: paid, completionHeight };
}

/** Declares (or changes) the operator's consensus key and moniker. */
export function setValidatorKey(ctx: Context, operator: Bytes, key: Bytes, moniker: string): void {
  const op = getOperator(ctx.store, operator);
  if (!op) throw StakingErrors.UNKNOWN_OPERATOR(`${encodeAddress(operator)} is not an operator yet; self-bond first (staking/delegate to your own address)`);
  if (!isEd25519Point(key)) throw StakingErrors.INVALID_PUBKEY(`${toHex(key)} is not an Ed25519 public key (not a point of the curve)`);
  if (CONTROL_CHARS.test(moniker)) throw StakingErrors.INVALID_MONIKER('the moniker may not contain control characters (newlines, tabs...)');
  const owner = ctx.store.get(consensusKeyKey(key));
  if (owner && !equals(owner, operator)) throw StakingErrors.KEY_IN_USE(`consensus key ${toHex(key)} is already declared by operator ${encodeAddress(owner)}`);
  putOperator(ctx.store, operator, op, { ...op, validatorPubKey: Uint8Array.from(key), moniker });
  ctx.emit('staking.set_validator', () => ({ operator: encodeAddress(operator), pubKey: toHex(key), moniker }));
}

export function unjail(ctx: Context, operator: Bytes): void {
  const op = getOperator(ctx.store, operator);
  if (!op) throw StakingErrors.UNKNOWN_OPERATOR(`${encodeAddress(operator)} is not an operator`);
  if (!op.jailed) throw StakingErrors.NOT_JAILED(`operator ${encodeAddress(operator)} is not jailed`);
  const height = ctx.block.height;
  if (height < op.jailedUntil) throw StakingErrors.STILL_JAILED(`operator ${encodeAddress(operator)} is jailed until height ${op.jailedUntil} (now ${height}); send unjail then`);
  putOrPrune(ctx.store, operator, op, { ...op, jailed: false, jailedUntil: 0n });
  ctx.emit('staking.unjail', () => ({ operator: encodeAddress(operator) }));
}

// ---- unbonding queue -------------------------------------------------------------------------

/** Pays out every unbonding entry that completes at or before `height` (key order: height first). */
export function completeUnbondings(ctx: Context, height: bigint): number {
  const due: Array<[Bytes, Bytes]> = [];
  for (const e of ctx.store.iterate(UNBONDING_PREFIX, unbondingEndAt(height))) due.push(e);
  const n = UNBONDING_PREFIX.length;
  for (const [k, v] of due) {
    const completion = decode(u64, k.subarray(n, n + 8));
    const delegator = k.slice(n + 8, n + 28);
    const operator = k.slice(n + 28, n + 48);
    const { amount } = decode(unbondingCodec, v);
    ctx.store.delete(k);
    ctx.store.delete(unbondingByDelegatorKey(delegator, completion, operator));
    bank.transfer(ctx, UNBONDING_POOL, delegator, amount);
    ctx.emit('staking.unbonding_complete', () => ({ delegator: encodeAddress(delegator), operator: encodeAddress(operator), amount }));
  }
  return due.length;
}

// ---- the validator set -------------------------------------------------------------------------

export interface Candidate {
  readonly operator: Bytes;
  readonly pubKey: Bytes;
  readonly tokens: bigint;
  readonly moniker: string;
}

/** Order of the validator set: tokens descending, then public key ascending. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.tokens !== b.tokens) return a.tokens > b.tokens ? -1 : 1;
  return compare(a.pubKey, b.pubKey);
}

function toValidator(c: Candidate, power: bigint): Validator {
  return { name: c.moniker || encodeAddress(c.operator), pubKey: c.pubKey, power, rewardAddress: c.operator };
}

/**
 * The validator set from candidates already in set order: the first `maxValidators` with at
 * least `minValidatorBond` tokens; power = floor(tokens / powerReduction) (the remainder gives
 * no power), at least 1 by the params' validation.
 */
export function selectValidators(ordered: Iterable<Candidate>, p: StakingParams): Validator[] {
  const out: Validator[] = [];
  for (const c of ordered) {
    if (out.length >= p.maxValidators || c.tokens < p.minValidatorBond) break;
    const power = c.tokens / p.powerReduction; // rounds toward zero
    if (power === 0n) break;
    out.push(toValidator(c, power));
  }
  return out;
}

/** Candidates in set order, from the rank index (non-jailed operators with a consensus key). */
function* rankedCandidates(store: KVReader): Iterable<Candidate> {
  for (const [k, v] of store.iterate(RANK_PREFIX, prefixEnd(RANK_PREFIX))) {
    const op = getOperator(store, v);
    if (!op?.validatorPubKey) throw new InvariantError(`rank index entry for ${encodeAddress(v)} has no operator with a key`);
    yield { operator: Uint8Array.from(v), pubKey: op.validatorPubKey, tokens: tokensOfRankKey(k), moniker: op.moniker };
  }
}

/** The validator set the current stake calls for (possibly empty). */
export function computeValidatorSet(store: KVReader, p: StakingParams = stakingParamsOf(store)): Validator[] {
  return selectValidators(rankedCandidates(store), p);
}

/** Whether staking decides the validator set (the genesis had staking operators). */
export function managesValidatorSet(store: KVReader): boolean {
  return store.get(MANAGED_KEY) !== undefined;
}

export function setManaged(store: KVStore): void {
  store.set(MANAGED_KEY, Uint8Array.of(1));
}

/**
 * End of block: writes the validator set stake calls for when it differs from the stored one.
 * Never an empty set (CometBFT cannot run without validators): the old set stays and one
 * `staking.validator_set_kept` event says why, when the computed set first becomes empty.
 */
export function updateValidatorSet(ctx: Context): Validator[] | undefined {
  if (!managesValidatorSet(ctx.store)) return undefined;
  const p = stakingParamsOf(ctx.store);
  const next = computeValidatorSet(ctx.store, p);
  let total = 0n;
  for (const v of next) total += v.power;
  const why =
    next.length === 0
      ? `no operator qualifies (a consensus key, not jailed, at least ${p.minValidatorBond}ugw bonded)`
      : total > MAX_TOTAL_POWER
        ? `total voting power ${total} exceeds CometBFT's limit ${MAX_TOTAL_POWER}; raise staking.powerReduction`
        : undefined;
  if (why) {
    if (ctx.store.get(KEPT_KEY) === undefined) {
      ctx.store.set(KEPT_KEY, encode(u64, ctx.block.height));
      ctx.emit('staking.validator_set_kept', () => ({ reason: why, validators: getValidators(ctx.store).length }));
    }
    return undefined;
  }
  if (ctx.store.get(KEPT_KEY) !== undefined) ctx.store.delete(KEPT_KEY);
  const encoded = encode(validatorSetCodec, next);
  const stored = ctx.store.get(VALIDATORS_KEY);
  if (stored && equals(stored, encoded)) return undefined;
  setValidators(ctx.store, next);
  ctx.emit('staking.validator_set', () => ({ validators: next.length, totalPower: total }));
  return next;
}

// ---- genesis ------------------------------------------------------------------------------------

/** Bonds an operator's genesis self-bond (moved from its bank balance into the bonded pool). */
export function bondAtGenesis(store: KVStore, address: Bytes, key: Bytes | null, moniker: string, selfBond: bigint): void {
  subBalance(store, address, selfBond);
  addBalance(store, BONDED_POOL, selfBond);
  putOperator(store, address, undefined, { tokens: selfBond, shares: selfBond, validatorPubKey: key, moniker, jailed: false, jailedUntil: 0n });
  setDelegationShares(store, address, address, selfBond);
  setTotalBonded(store, totalBonded(store) + selfBond);
}
