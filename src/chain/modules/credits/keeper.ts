/**
 * credits keeper: Data Credit (DC) balances and the burn-and-mint totals.
 *
 * DC are non-transferable: they are created only by burning tokens (`credits/mint`, or genesis)
 * and destroyed only by spending them on the chain's services (spendCredits, called by the
 * verticals: onboarding, location assertions, usage). Every change goes through this file,
 * which keeps, for the totals since genesis:
 *
 *   dcMinted == Σ balances + dcBurned        tokensBurned == the supply the mints removed
 *
 * Conversion (dcForTokens): a price P is micro-USD per GW and 1 GW = 1e6 ugw, so `amount` ugw
 * is worth amount × P / 1e6 micro-USD, which buys that ÷ dcPriceMicroUsd DC:
 *
 *   DC = floor(amount × P / (1e6 × dcPriceMicroUsd))
 *
 * One floor over the exact product (no intermediate rounding). The fraction of a DC is not
 * issued and not refunded: the tokens are burned whole (at most 1e6 × dcPrice / P ugw, i.e. less
 * than one DC's worth, is burned for nothing).
 */
import type { Bytes } from '../../../core/bytes.js';
import { UNIT } from '../../../core/amount.js';
import { U128_MAX, decode, encode, struct, u128, u64, type Infer } from '../../../core/codec.js';
import { InvalidInputError, InvariantError } from '../../../core/errors.js';
import { encodeAddress } from '../../../core/keys.js';
import type { KVReader, KVStore } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import { getParams, type ParamsDef } from '../../module.js';
import { currentEpoch } from '../epochs/index.js';
import { CreditsErrors } from './errors.js';
import type { PriceSource, TokenBurner } from './expected.js';
import { CREDITS_TOTAL_KEY, creditsBalanceKeyS, creditsEpochKeyS } from './keys.js';

// ---- params ----

export const creditsParamsCodec = struct('CreditsParams', { dcPriceMicroUsd: u64 });
export type CreditsParams = Infer<typeof creditsParamsCodec>;

export const creditsParams: ParamsDef<CreditsParams> = {
  codec: creditsParamsCodec,
  // $0.00001 per DC (Helium's fixed DC price).
  defaults: { dcPriceMicroUsd: 10n },
  validate(p) {
    if (p.dcPriceMicroUsd < 1n || p.dcPriceMicroUsd > 1_000_000_000_000n) {
      throw new InvalidInputError('INVALID_PARAM', 'credits.dcPriceMicroUsd must be between 1 (micro-USD per DC) and 1e12');
    }
  },
};

// ---- pure conversion (table-tested) ----

/** DC bought by burning `amount` ugw at `price` micro-USD per GW: floor(amount × price / (1e6 × dcPrice)). */
export function dcForTokens(amount: bigint, price: bigint, dcPriceMicroUsd: bigint): bigint {
  return (amount * price) / (UNIT * dcPriceMicroUsd); // ≥ 0: floor; the fractional DC is not issued
}

/** The fewest ugw that buy at least `dc` DC at `price`: ceil(dc × 1e6 × dcPrice / price). */
export function tokensForDc(dc: bigint, price: bigint, dcPriceMicroUsd: bigint): bigint {
  const num = dc * UNIT * dcPriceMicroUsd;
  return (num + price - 1n) / price; // rounds up: the smallest amount whose floor reaches dc
}

// ---- state ----

export const creditTotalsCodec = struct('CreditTotals', { tokensBurned: u128, dcMinted: u128, dcBurned: u128 });
export type CreditTotals = Infer<typeof creditTotalsCodec>;

const ZERO_TOTALS: CreditTotals = Object.freeze({ tokensBurned: 0n, dcMinted: 0n, dcBurned: 0n });

/** A Data Credit balance (0 when the address never held any). */
export function getCredits(store: KVReader, addr: Bytes): bigint {
  const b = store.get(creditsBalanceKeyS(addr));
  return b ? decode(u128, b) : 0n;
}

function setCredits(store: KVStore, addr: Bytes, v: bigint): void {
  const k = creditsBalanceKeyS(addr);
  if (v === 0n) store.delete(k);
  else store.set(k, encode(u128, v, 16));
}

export function getEpochTotals(store: KVReader, epoch: bigint): CreditTotals {
  const b = store.get(creditsEpochKeyS(epoch));
  return b ? decode(creditTotalsCodec, b) : ZERO_TOTALS;
}

export function getTotals(store: KVReader): CreditTotals {
  const b = store.get(CREDITS_TOTAL_KEY);
  return b ? decode(creditTotalsCodec, b) : ZERO_TOTALS;
}

function plus(a: CreditTotals, d: Partial<CreditTotals>): CreditTotals {
  const t = {
    tokensBurned: a.tokensBurned + (d.tokensBurned ?? 0n),
    dcMinted: a.dcMinted + (d.dcMinted ?? 0n),
    dcBurned: a.dcBurned + (d.dcBurned ?? 0n),
  };
  if (t.tokensBurned > U128_MAX || t.dcMinted > U128_MAX || t.dcBurned > U128_MAX) throw CreditsErrors.OVERFLOW('Data Credit totals would exceed 2^128-1');
  return t;
}

/** Adds to the running totals and, when `epoch` is given, to that epoch's totals. */
function count(store: KVStore, epoch: bigint | undefined, d: Partial<CreditTotals>): void {
  store.set(CREDITS_TOTAL_KEY, encode(creditTotalsCodec, plus(getTotals(store), d), 48));
  if (epoch !== undefined) store.set(creditsEpochKeyS(epoch), encode(creditTotalsCodec, plus(getEpochTotals(store, epoch), d), 48));
}

function addCredits(store: KVStore, to: Bytes, dc: bigint): void {
  const v = getCredits(store, to) + dc;
  if (v > U128_MAX) throw CreditsErrors.OVERFLOW(`the Data Credit balance of ${encodeAddress(to)} would exceed 2^128-1`);
  setCredits(store, to, v);
}

/** Genesis: DC given to an address (counted as minted in the running totals, no tokens burned). */
export function genesisCredits(store: KVStore, to: Bytes, dc: bigint): void {
  if (dc === 0n) return;
  addCredits(store, to, dc);
  count(store, undefined, { dcMinted: dc });
}

/**
 * Burns `amount` DC of `from` for a service (`reason`, e.g. "devices/onboard"), counting them in
 * the current epoch's totals. Spending 0 does nothing. Throws INSUFFICIENT_CREDITS.
 */
export function spendCredits(ctx: Context, from: Bytes, amount: bigint, reason: string): void {
  if (amount < 0n) throw new InvariantError(`spendCredits: negative amount ${amount} (${reason})`);
  if (amount === 0n) return;
  const have = getCredits(ctx.store, from);
  if (have < amount) {
    throw CreditsErrors.INSUFFICIENT_CREDITS(
      `${encodeAddress(from)} has ${have} DC, ${reason} needs ${amount} DC; burn tokens for more with credits/mint (groundwork credits mint)`,
    );
  }
  setCredits(ctx.store, from, have - amount);
  const epoch = currentEpoch(ctx.store);
  count(ctx.store, epoch, { dcBurned: amount });
  ctx.emit('credits.spend', () => ({ owner: encodeAddress(from), amount, reason, epoch }));
}

/**
 * Takes `amount` DC out of `from`'s balance into a module's escrow (the market's orders paid in
 * DC). Escrowed DC are neither spendable nor burned: releaseCredits gives them back,
 * burnEscrowedCredits burns them when the service is delivered. Throws INSUFFICIENT_CREDITS.
 */
export function escrowCredits(ctx: Context, from: Bytes, amount: bigint, reason: string): void {
  if (amount < 0n) throw new InvariantError(`escrowCredits: negative amount ${amount} (${reason})`);
  const have = getCredits(ctx.store, from);
  if (have < amount) {
    throw CreditsErrors.INSUFFICIENT_CREDITS(`${encodeAddress(from)} has ${have} DC, ${reason} needs ${amount} DC; burn tokens for more with credits/mint (groundwork credits mint)`);
  }
  setCredits(ctx.store, from, have - amount);
}

/** Returns escrowed DC to a balance (an order's unused escrow). */
export function releaseCredits(ctx: Context, to: Bytes, amount: bigint): void {
  if (amount < 0n) throw new InvariantError(`releaseCredits: negative amount ${amount}`);
  if (amount > 0n) addCredits(ctx.store, to, amount);
}

/** Burns escrowed DC for a delivered service, counted in the current epoch's totals. */
export function burnEscrowedCredits(ctx: Context, amount: bigint, reason: string): void {
  if (amount < 0n) throw new InvariantError(`burnEscrowedCredits: negative amount ${amount} (${reason})`);
  if (amount === 0n) return;
  count(ctx.store, currentEpoch(ctx.store), { dcBurned: amount });
}

export interface MintResult {
  /** DC credited to the recipient. */
  readonly dc: bigint;
  /** The minting price used, micro-USD per GW. */
  readonly price: bigint;
  readonly epoch: bigint;
}

/**
 * Burns `amount` ugw of `from` and credits `to` with the DC they buy at the oracle's minting
 * price. Refuses (changing nothing) a zero amount, a missing or stale price, a result under one
 * DC, and a balance below `amount`.
 */
export function mintCredits(ctx: Context, deps: { price: PriceSource; tokens: TokenBurner }, from: Bytes, to: Bytes, amount: bigint): MintResult {
  if (amount <= 0n) throw CreditsErrors.INVALID_AMOUNT('amount to burn must be greater than zero (ugw)');
  const price = deps.price.mintingPrice(ctx.store, ctx.block.height);
  const { dcPriceMicroUsd } = getParams(ctx.store, 'credits', creditsParams);
  const dc = dcForTokens(amount, price, dcPriceMicroUsd);
  if (dc === 0n) {
    throw CreditsErrors.AMOUNT_TOO_SMALL(
      `${amount}ugw buys 0 DC at ${price} micro-USD/GW (1 DC = ${dcPriceMicroUsd} micro-USD); burn at least ${tokensForDc(1n, price, dcPriceMicroUsd)}ugw`,
    );
  }
  deps.tokens.burn(ctx, from, amount);
  addCredits(ctx.store, to, dc);
  const epoch = currentEpoch(ctx.store);
  count(ctx.store, epoch, { tokensBurned: amount, dcMinted: dc });
  ctx.emit('credits.mint', () => ({ sender: encodeAddress(from), recipient: encodeAddress(to), burned: amount, dc, price, epoch }));
  return { dc, price, epoch };
}
