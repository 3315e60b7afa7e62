/**
 * oracle parameters (changed only by governance).
 *
 * - reporters: the addresses allowed to send `oracle/report` (at most 100, no duplicates). Only
 *   their latest reports count; a reporter removed from the list stops counting at once.
 * - maxAgeBlocks: a report made at height h is fresh through height h + maxAgeBlocks. Default
 *   600 (Helium's "at most 10 minutes old" at 1 s blocks).
 * - minReports: fresh reports needed for a price (otherwise PRICE_STALE / NO_PRICE).
 * - emaAlphaBps: weight of the new median in the per-block moving average (10000 = no memory).
 * - haircutBps: fraction taken off min(median, ema) for the minting price.
 * - confidenceBps: multiple (in bps, 20000 = 2×) of the reports' mean absolute deviation taken
 *   off as well (Helium: EMA minus 2× confidence).
 */
import { list, struct, u32, u64, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { address, encodeAddress } from '../../../core/keys.js';
import type { ParamsDef } from '../../module.js';

export const MAX_REPORTERS = 100;

export const oracleParamsCodec = struct('OracleParams', {
  reporters: list(address, MAX_REPORTERS, 'reporters'),
  maxAgeBlocks: u64,
  minReports: u32,
  emaAlphaBps: u32,
  haircutBps: u32,
  confidenceBps: u32,
});
export type OracleParams = Infer<typeof oracleParamsCodec>;

function bad(msg: string): InvalidInputError {
  return new InvalidInputError('INVALID_PARAM', msg);
}

export const oracleParams: ParamsDef<OracleParams> = {
  codec: oracleParamsCodec,
  defaults: { reporters: [], maxAgeBlocks: 600n, minReports: 1, emaAlphaBps: 1000, haircutBps: 0, confidenceBps: 20_000 },
  validate(p) {
    const seen = new Set<string>();
    for (const r of p.reporters) {
      const a = encodeAddress(r);
      if (seen.has(a)) throw bad(`oracle.reporters lists ${a} twice`);
      seen.add(a);
    }
    if (p.maxAgeBlocks < 1n || p.maxAgeBlocks > 10_000_000n) throw bad('oracle.maxAgeBlocks must be between 1 and 10,000,000 blocks');
    if (p.minReports < 1 || p.minReports > MAX_REPORTERS) throw bad(`oracle.minReports must be between 1 and ${MAX_REPORTERS}`);
    if (p.reporters.length > 0 && p.minReports > p.reporters.length) {
      throw bad(`oracle.minReports (${p.minReports}) exceeds the number of reporters (${p.reporters.length}): no price could ever be formed`);
    }
    if (p.emaAlphaBps < 1 || p.emaAlphaBps > 10_000) throw bad('oracle.emaAlphaBps must be between 1 and 10000 (bps)');
    if (p.haircutBps > 9_999) throw bad('oracle.haircutBps must be between 0 and 9999 (bps)');
    if (p.confidenceBps > 1_000_000) throw bad('oracle.confidenceBps must be between 0 and 1,000,000 (bps, 100×)');
  },
};
