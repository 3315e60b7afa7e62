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

/*
 * An account's encoding is fixed: sequence (u64) then balance (u128), big-endian, 24 bytes.
 * Accounts are read and written at fixed offsets (a block that pays out thousands of refunds
 * reads and writes each one; the generic struct codec costs several times more). Anything else
 * goes through accountCodec, for its errors.
 */
const ACCOUNT_BYTES = 24;
const U64_MAX = (1n << 64n) - 1n;

function u64at(b: Bytes, i: number): bigint {
  const hi = (b[i] as number) * 0x1000000 + (((b[i + 1] as number) << 16) | ((b[i + 2] as number) << 8) | (b[i + 3] as number));
  const lo = (b[i + 4] as number) * 0x1000000 + (((b[i + 5] as number) << 16) | ((b[i + 6] as number) << 8) | (b[i + 7] as number));
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

export function decodeAccount(b: Bytes): Account {
  if (b.length !== ACCOUNT_BYTES) return decode(accountCodec, b);
  const hi = u64at(b, 8);
  const lo = u64at(b, 16);
  return { sequence: u64at(b, 0), balance: hi === 0n ? lo : (hi << 64n) | lo };
}

export function encodeAccount(a: Account): Bytes {
  if (a.sequence < 0n || a.sequence > U64_MAX || a.balance < 0n || a.balance > U128_MAX) return encode(accountCodec, a, ACCOUNT_BYTES);
  const out = Buffer.allocUnsafe(ACCOUNT_BYTES);
  putU64(out, 0, a.sequence);
  putU64(out, 8, a.balance > U64_MAX ? a.balance >> 64n : 0n);
  putU64(out, 16, a.balance > U64_MAX ? a.balance & U64_MAX : a.balance);
  return out;
}

/** `v` (0 <= v < 2^64) big-endian at `i`; values below 2^32 without writeBigUInt64BE's bigint arithmetic. */
function putU64(out: Buffer, i: number, v: bigint): void {
  if (v > 0xffff_ffffn) out.writeBigUInt64BE(v, i);
  else {
    out.writeUInt32BE(0, i);
    out.writeUInt32BE(Number(v), i + 4);
  }
}

export function getAccount(store: KVReader, address: Bytes): Account {
  const b = store.get(bankAccountKeyS(address));
  return b ? decodeAccount(b) : EMPTY;
}

/** Writes an account; an account with nothing in it (never used, no balance) is not stored. */
export function setAccount(store: KVStore, address: Bytes, a: Account): void {
  const key = bankAccountKeyS(address);
  if (a.sequence === 0n && a.balance === 0n) store.delete(key);
  else store.set(key, encodeAccount(a));
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
