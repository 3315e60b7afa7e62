/**
 * oracle: the token's USD price, from a governance-set list of reporters.
 *
 * A listed reporter sends `oracle/report {price}` (micro-USD per GW); its latest report is kept
 * with the height it was made at. The chain's price is the median of the reports at most
 * `maxAgeBlocks` old (at least `minReports` of them); a moving average of that median, updated
 * at the end of every block that has one, and the reports' spread give a conservative price for
 * minting Data Credits. Formulas and rounding: keeper.ts.
 */
import { struct, u64, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { encodeAddress } from '../../../core/keys.js';
import type { KVReader } from '../../../state/overlay.js';
import { equals } from '../../../core/bytes.js';
import { getParams, msg, type Module } from '../../module.js';
import { OracleErrors } from './errors.js';
import { getEma, priceState, recordReport, reportsAt, updateEma } from './keeper.js';
import { oracleParams, type OracleParams } from './params.js';

export { oracleParams, oracleParamsCodec, type OracleParams } from './params.js';

export const reportMsgCodec = struct('MsgOracleReport', { price: u64 });
export type MsgOracleReport = Infer<typeof reportMsgCodec>;

/**
 * The height a query evaluates freshness at: the next block's (the committed height + 1), as a
 * tx sent now would see it. The API passes the committed StateStore, which knows its version;
 * `?height=` overrides.
 */
export function queryHeight(store: KVReader, args: Readonly<Record<string, string>>): bigint {
  const h = args.height;
  if (h !== undefined) {
    if (!/^[0-9]{1,19}$/.test(h)) throw new InvalidInputError('INVALID_ARGUMENT', `height must be a block height (an integer), got "${h}"`);
    return BigInt(h);
  }
  const v = (store as { version?: unknown }).version;
  if (typeof v === 'number' && v >= 0) return BigInt(v) + 1n;
  throw new InvalidInputError('INVALID_ARGUMENT', 'give the height to evaluate the price at (?height=)');
}

/** The `price` query's answer (JSON form). */
export function priceView(store: KVReader, height: bigint) {
  const p = getParams(store, 'oracle', oracleParams);
  const s = priceState(store, height);
  const ema = getEma(store);
  return {
    height: height.toString(),
    ok: s.ok,
    ...(s.ok
      ? { median: s.median.toString(), ema: s.ema.toString(), confidence: s.confidence.toString(), mintingPrice: s.mintingPrice.toString(), freshCount: s.fresh.length }
      : { error: s.error, freshCount: s.freshCount }),
    storedEma: ema ? { ema: ema.ema.toString(), height: ema.height.toString() } : null,
    minReports: p.minReports,
    maxAgeBlocks: p.maxAgeBlocks.toString(),
    reporters: p.reporters.length,
    reports: reportsAt(store, height, p).map((r) => ({
      reporter: encodeAddress(r.reporter),
      price: r.price.toString(),
      height: r.height.toString(),
      age: r.age.toString(),
      fresh: r.fresh,
    })),
  };
}

export const oracleModule: Module<null, OracleParams> = {
  name: 'oracle',
  params: oracleParams,
  indexedAttributes: ['oracle.report.reporter'],
  msgs: [
    msg('oracle/report', reportMsgCodec, (ctx, m) => {
      const sender = ctx.sender as Uint8Array;
      const p = getParams(ctx.store, 'oracle', oracleParams);
      if (!p.reporters.some((r) => equals(r, sender))) {
        throw OracleErrors.NOT_REPORTER(`${encodeAddress(sender)} is not an oracle reporter; governance adds reporters to oracle.reporters`);
      }
      if (m.price <= 0n) throw OracleErrors.INVALID_PRICE('price must be greater than zero: give micro-USD per GW (420000 = $0.42)');
      recordReport(ctx, sender, m.price);
    }),
  ],
  endBlock(ctx) {
    updateEma(ctx);
  },
  queries: {
    price: (store, args) => priceView(store, queryHeight(store, args)),
  },
};
