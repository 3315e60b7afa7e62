/**
 * credits: Data Credits (DC), burn-and-mint.
 *
 * A customer burns native tokens with `credits/mint {amount, to?}` and receives DC at a fixed
 * USD value (credits.dcPriceMicroUsd, default 10 = $0.00001 per DC) priced with the oracle's
 * conservative minting price; minting refuses a missing or stale price. DC cannot be sent: the
 * verticals burn them for onboarding, location assertions and usage through spendCredits.
 * Tokens burned, DC minted and DC burned are totalled per epoch and since genesis.
 * Conversion and rounding: keeper.ts.
 */
import { U128_MAX, list, option, struct, u128, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { address, decodeAddress, encodeAddress } from '../../../core/keys.js';
import type { KVReader } from '../../../state/overlay.js';
import { getParams, msg, type Module } from '../../module.js';
import { burn } from '../bank/keeper.js';
import { currentEpoch } from '../epochs/index.js';
import { mintingPrice, priceState } from '../oracle/keeper.js';
import { queryHeight } from '../oracle/index.js';
import type { PriceSource, TokenBurner } from './expected.js';
import {
  creditsParams,
  dcForTokens,
  genesisCredits,
  getCredits,
  getEpochTotals,
  getTotals,
  mintCredits,
  tokensForDc,
  type CreditTotals,
  type CreditsParams,
} from './keeper.js';

export { creditsParams, creditsParamsCodec, creditTotalsCodec, type CreditsParams, type CreditTotals } from './keeper.js';

export const mintMsgCodec = struct('MsgCreditsMint', { amount: u128, to: option(address) });
export type MsgCreditsMint = Infer<typeof mintMsgCodec>;

const genesisEntryCodec = struct('GenesisCredits', { address, amount: u128 });
const genesisCodec = struct('CreditsGenesis', { balances: list(genesisEntryCodec, 10_000_000) });
export type CreditsGenesis = Infer<typeof genesisCodec>;

export interface CreditsDeps {
  price: PriceSource;
  tokens: TokenBurner;
}

const defaultDeps: CreditsDeps = { price: { mintingPrice }, tokens: { burn } };

function totalsJSON(t: CreditTotals) {
  return { tokensBurned: t.tokensBurned.toString(), dcMinted: t.dcMinted.toString(), dcBurned: t.dcBurned.toString() };
}

function argAddress(args: Readonly<Record<string, string>>): Uint8Array {
  const a = args.address;
  if (a === undefined) throw new InvalidInputError('INVALID_ARGUMENT', 'give ?address=gw1...');
  return decodeAddress(a);
}

function argUint(args: Readonly<Record<string, string>>, name: string): bigint {
  const v = args[name];
  if (v === undefined || !/^(0|[1-9][0-9]{0,38})$/.test(v) || BigInt(v) > U128_MAX) {
    throw new InvalidInputError('INVALID_ARGUMENT', `give ?${name}= as a non-negative integer${v === undefined ? '' : `, got "${v}"`}`);
  }
  return BigInt(v);
}

export function creditsModule(deps: CreditsDeps = defaultDeps): Module<CreditsGenesis, CreditsParams> {
  return {
    name: 'credits',
    params: creditsParams,
    indexedAttributes: ['credits.mint.sender', 'credits.mint.recipient', 'credits.spend.owner'],
    msgs: [
      msg('credits/mint', mintMsgCodec, (ctx, m) => {
        const sender = ctx.sender as Uint8Array;
        mintCredits(ctx, deps, sender, m.to ?? sender, m.amount);
      }),
    ],
    genesis: {
      parse(json, path) {
        const g = genesisCodec.fromJSON({ balances: [], ...(json as object | null) }, path);
        const seen = new Set<string>();
        let total = 0n;
        g.balances.forEach((b, i) => {
          const a = encodeAddress(b.address);
          if (seen.has(a)) throw new InvalidInputError('INVALID_GENESIS', `${path}.balances[${i}]: duplicate address ${a}`);
          seen.add(a);
          total += b.amount;
        });
        if (total > U128_MAX) throw new InvalidInputError('INVALID_GENESIS', `${path}.balances: total Data Credits exceed 2^128-1`);
        return g;
      },
      init(ctx, g) {
        for (const b of g.balances) genesisCredits(ctx.store, b.address, b.amount);
      },
    },
    queries: {
      /** ?address= → {address, credits} */
      balance(store, args) {
        const a = argAddress(args);
        return { address: encodeAddress(a), credits: getCredits(store, a).toString() };
      },
      /** ?epoch= → that epoch's totals (zeros for an epoch with none). */
      epoch(store, args) {
        const e = argUint(args, 'epoch');
        return { epoch: e.toString(), ...totalsJSON(getEpochTotals(store, e)) };
      },
      /** Totals since genesis, and the current epoch's. */
      totals(store: KVReader) {
        const e = currentEpoch(store);
        return { ...totalsJSON(getTotals(store)), currentEpoch: e.toString(), epochTotals: totalsJSON(getEpochTotals(store, e)) };
      },
      /** ?amount= (ugw) → the DC it buys now, at which price (unverified; the tx decides). */
      quote(store, args) {
        const amount = argUint(args, 'amount');
        const { dcPriceMicroUsd } = getParams(store, 'credits', creditsParams);
        const s = priceState(store, queryHeight(store, args));
        if (!s.ok) return { ok: false, error: s.error, dcPriceMicroUsd: dcPriceMicroUsd.toString() };
        if (s.mintingPrice === 0n) return { ok: false, error: 'PRICE_UNCERTAIN', dcPriceMicroUsd: dcPriceMicroUsd.toString() };
        return {
          ok: true,
          amount: amount.toString(),
          price: s.mintingPrice.toString(),
          dcPriceMicroUsd: dcPriceMicroUsd.toString(),
          dc: dcForTokens(amount, s.mintingPrice, dcPriceMicroUsd).toString(),
          minAmount: tokensForDc(1n, s.mintingPrice, dcPriceMicroUsd).toString(),
        };
      },
    },
  };
}
