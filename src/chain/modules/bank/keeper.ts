/**
 * bank keeper: accounts (sequence + native balance) and total supply. Every change to a balance
 * goes through these functions, which keep sum(balances) == supply (mint and burn are the only
 * ways supply moves).
 */
import type { Bytes } from '../../../core/bytes.js';
import { U128_MAX, decode, encode, struct, u128, u64, type Infer } from '../../../core/codec.js';
import { encodeAddress } from '../../../core/keys.js';
import type { KVReader, KVStore } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import { BANK_SUPPLY_KEY, bankAccountKeyS } from '../../keys.js';
import { BankErrors } from './errors.js';

export const accountCodec = struct('Account', { sequence: u64, balance: u128 });
export type Account = Infer<typeof accountCodec>;

const EMPTY: Account = Object.freeze({ sequence: 0n, balance: 0n });

export function getAccount(store: KVReader, address: Bytes): Account {
  const b = store.get(bankAccountKeyS(address));
  return b ? decode(accountCodec, b) : EMPTY;
}

/** Writes an account; an account with nothing in it (never used, no balance) is not stored. */
export function setAccount(store: KVStore, address: Bytes, a: Account): void {
  const key = bankAccountKeyS(address);
  if (a.sequence === 0n && a.balance === 0n) store.delete(key);
  else store.set(key, encode(accountCodec, a, 24));
}

export function getSupply(store: KVReader): bigint {
  const b = store.get(BANK_SUPPLY_KEY);
  return b ? decode(u128, b) : 0n;
}

/** Only for genesis and mint/burn, which keep it equal to the sum of balances. */
export function setSupply(store: KVStore, v: bigint): void {
  store.set(BANK_SUPPLY_KEY, encode(u128, v, 16));
}

export function subBalance(store: KVStore, address: Bytes, amount: bigint): void {
  const a = getAccount(store, address);
  if (a.balance < amount) {
    throw BankErrors.INSUFFICIENT_FUNDS(`${encodeAddress(address)} has ${a.balance}ugw, needs ${amount}ugw`);
  }
  setAccount(store, address, { sequence: a.sequence, balance: a.balance - amount });
}

export function addBalance(store: KVStore, address: Bytes, amount: bigint): void {
  const a = getAccount(store, address);
  const balance = a.balance + amount;
  if (balance > U128_MAX) throw BankErrors.OVERFLOW(`balance of ${encodeAddress(address)} would exceed 2^128-1`);
  setAccount(store, address, { sequence: a.sequence, balance });
}

export function transfer(ctx: Context, from: Bytes, to: Bytes, amount: bigint): void {
  if (amount <= 0n) throw BankErrors.INVALID_AMOUNT();
  subBalance(ctx.store, from, amount);
  addBalance(ctx.store, to, amount);
  ctx.emit('bank.transfer', () => ({ sender: encodeAddress(from), recipient: encodeAddress(to), amount }));
}

/**
 * Pays several recipients from one account: the sender is debited once with the total (one read
 * and write of its account instead of one per payment; a module paying out many refunds at a
 * block's end). All or nothing: the caller's checkpoint undoes it if anything throws.
 */
export function transferMany(ctx: Context, from: Bytes, outs: readonly { to: Bytes; amount: bigint }[]): void {
  let total = 0n;
  for (const o of outs) {
    if (o.amount <= 0n) throw BankErrors.INVALID_AMOUNT();
    total += o.amount;
  }
  if (total === 0n) return;
  subBalance(ctx.store, from, total);
  for (const o of outs) {
    addBalance(ctx.store, o.to, o.amount);
    ctx.emit('bank.transfer', () => ({ sender: encodeAddress(from), recipient: encodeAddress(o.to), amount: o.amount }));
  }
}

/** Creates `amount` new tokens in `to` (emission, genesis). */
export function mint(ctx: Context, to: Bytes, amount: bigint): void {
  if (amount <= 0n) throw BankErrors.INVALID_AMOUNT();
  const supply = getSupply(ctx.store) + amount;
  if (supply > U128_MAX) throw BankErrors.OVERFLOW('total supply would exceed 2^128-1');
  addBalance(ctx.store, to, amount);
  setSupply(ctx.store, supply);
  ctx.emit('bank.mint', () => ({ recipient: encodeAddress(to), amount }));
}

/** Destroys `amount` tokens held by `from` (burn-and-mint, slashing). */
export function burn(ctx: Context, from: Bytes, amount: bigint): void {
  if (amount <= 0n) throw BankErrors.INVALID_AMOUNT();
  subBalance(ctx.store, from, amount);
  setSupply(ctx.store, getSupply(ctx.store) - amount);
  ctx.emit('bank.burn', () => ({ sender: encodeAddress(from), amount }));
}
