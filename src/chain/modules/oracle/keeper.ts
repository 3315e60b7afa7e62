/**
 * oracle keeper: reporters' latest prices, the median of the fresh ones, a per-block moving
 * average, and the conservative price that Data Credit minting uses.
 *
 * Prices are integers in micro-USD per GW (420000 = $0.42 per GW), u64.
 *
 *   fresh        = latest reports of listed reporters made at height r with 0 ≤ h − r ≤ maxAgeBlocks
 *   median       = middle fresh price; with an even count, the mean of the two middle prices
 *                  rounded down (floor; the half unit is dropped)
 *   confidence   = floor(Σ |pᵢ − median| / n), the mean absolute deviation of the fresh prices
 *   ema          = updated in endBlock whenever a median exists:
 *                    ema ← ema + trunc((median − ema) × emaAlphaBps / 10000)
 *                  (toward zero, so a constant median is approached to within
 *                  ⌈10000 / emaAlphaBps⌉ micro-USD, from the side it started on); it restarts at
 *                  the median when its last update is older than maxAgeBlocks (the feed was down)
 *   mintingPrice = floor((min(median, ema) × (10000 − haircutBps) − confidence × confidenceBps) / 10000)
 *                  refused (PRICE_UNCERTAIN) when not > 0; before the first endBlock with a
 *                  median (or after a gap), ema is taken as the median.
 *
 * Fewer than minReports fresh reports: NO_PRICE when no listed reporter ever reported, else
 * PRICE_STALE.
 */
import type { Bytes } from '../../../core/bytes.js';
import { decode, encode, struct, u64, type Infer } from '../../../core/codec.js';
import { encodeAddress } from '../../../core/keys.js';
import type { KVReader, KVStore } from '../../../state/overlay.js';
import type { Context } from '../../context.js';
import { getParams } from '../../module.js';
import { OracleErrors } from './errors.js';
import { ORACLE_EMA_KEY, oracleReportKeyS } from './keys.js';
import { oracleParams, type OracleParams } from './params.js';

const BPS = 10_000n;

export const priceReportCodec = struct('PriceReport', { price: u64, height: u64 });
export type PriceReport = Infer<typeof priceReportCodec>;

export const emaStateCodec = struct('OracleEma', { ema: u64, height: u64 });
export type EmaState = Infer<typeof emaStateCodec>;

// ---- pure math (table-tested) ----

/** Median of an ascending list (non-empty); even count: floor of the mean of the middle two. */
export function medianOf(sorted: readonly bigint[]): bigint {
  const n = sorted.length;
  const mid = n >> 1;
  if (n % 2 === 1) return sorted[mid] as bigint;
  // Both are ≥ 0, so division by 2 is a floor; the dropped half unit is below the price's precision.
  return ((sorted[mid - 1] as bigint) + (sorted[mid] as bigint)) / 2n;
}

/** floor(Σ |pᵢ − median| / n), the mean absolute deviation from the median (non-empty list). */
export function meanAbsDeviation(prices: readonly bigint[], median: bigint): bigint {
  let sum = 0n;
  for (const p of prices) sum += p > median ? p - median : median - p;
  return sum / BigInt(prices.length); // ≥ 0: floor
}

/** One EMA step: ema + trunc((median − ema) × alphaBps / 10000); the remainder is dropped (toward zero). */
export function emaStep(ema: bigint, median: bigint, alphaBps: bigint): bigint {
  return ema + ((median - ema) * alphaBps) / BPS;
}

/**
 * The conservative price: floor((min(median, ema) × (10000 − haircutBps) − confidence ×
 * confidenceBps) / 10000), or 0 when that is not positive (the caller refuses 0).
 */
export function conservativePrice(median: bigint, ema: bigint, confidence: bigint, haircutBps: bigint, confidenceBps: bigint): bigint {
  const base = median < ema ? median : ema;
  const num = base * (BPS - haircutBps) - confidence * confidenceBps;
  return num <= 0n ? 0n : num / BPS; // positive: floor, i.e. the price rounds down (conservative)
}

// ---- state ----

export function getReport(store: KVReader, reporter: Bytes): PriceReport | undefined {
  const b = store.get(oracleReportKeyS(reporter));
  return b ? decode(priceReportCodec, b) : undefined;
}

export function setReport(store: KVStore, reporter: Bytes, r: PriceReport): void {
  store.set(oracleReportKeyS(reporter), encode(priceReportCodec, r, 16));
}

export function getEma(store: KVReader): EmaState | undefined {
  const b = store.get(ORACLE_EMA_KEY);
  return b ? decode(emaStateCodec, b) : undefined;
}

function isFresh(r: { readonly height: bigint }, height: bigint, maxAge: bigint): boolean {
  return r.height <= height && height - r.height <= maxAge;
}

export interface ReportView {
  readonly reporter: Bytes;
  readonly price: bigint;
  readonly height: bigint;
  /** Blocks since the report (h − report height). */
  readonly age: bigint;
  readonly fresh: boolean;
}

export type PriceState =
  | { readonly ok: true; readonly median: bigint; readonly ema: bigint; readonly confidence: bigint; readonly mintingPrice: bigint; readonly fresh: bigint[] }
  | { readonly ok: false; readonly error: 'NO_PRICE' | 'PRICE_STALE'; readonly freshCount: number; readonly reported: number };

/** The listed reporters' reports, in the order of the reporter list. */
export function reportsAt(store: KVReader, height: bigint, p: OracleParams = getParams(store, 'oracle', oracleParams)): ReportView[] {
  const out: ReportView[] = [];
  for (const reporter of p.reporters) {
    const r = getReport(store, reporter);
    if (!r) continue;
    // A report after `height` (a query about an earlier height) is not fresh; its age shows as 0.
    out.push({ reporter, price: r.price, height: r.height, age: r.height <= height ? height - r.height : 0n, fresh: isFresh(r, height, p.maxAgeBlocks) });
  }
  return out;
}

/** Everything about the price at `height`, without throwing (for endBlock and queries). */
export function priceState(store: KVReader, height: bigint): PriceState {
  const p = getParams(store, 'oracle', oracleParams);
  const reports = reportsAt(store, height, p);
  const fresh = reports.filter((r) => r.fresh).map((r) => r.price);
  if (fresh.length === 0 || fresh.length < p.minReports) {
    return { ok: false, error: reports.length === 0 ? 'NO_PRICE' : 'PRICE_STALE', freshCount: fresh.length, reported: reports.length };
  }
  fresh.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const median = medianOf(fresh);
  const confidence = meanAbsDeviation(fresh, median);
  const e = getEma(store);
  const ema = e && isFresh(e, height, p.maxAgeBlocks) ? e.ema : median;
  const mintingPrice = conservativePrice(median, ema, confidence, BigInt(p.haircutBps), BigInt(p.confidenceBps));
  return { ok: true, median, ema, confidence, mintingPrice, fresh };
}

function refuse(s: Extract<PriceState, { ok: false }>, store: KVReader): never {
  const p = getParams(store, 'oracle', oracleParams);
  if (s.error === 'NO_PRICE') {
    throw OracleErrors.NO_PRICE(
      p.reporters.length === 0
        ? 'no price: governance has not listed any oracle reporter (oracle.reporters); nothing priced in USD can run until one reports'
        : `no price: none of the ${p.reporters.length} listed reporter(s) has reported yet; a reporter must send oracle/report`,
    );
  }
  throw OracleErrors.PRICE_STALE(
    `price is stale: ${s.freshCount} of ${s.reported} report(s) are at most ${p.maxAgeBlocks} blocks old, ${p.minReports} needed; wait for the reporters to report again`,
  );
}

/** The median of the fresh reports at `height` (micro-USD per GW); throws NO_PRICE / PRICE_STALE. */
export function medianPrice(store: KVReader, height: bigint): bigint {
  const s = priceState(store, height);
  if (!s.ok) refuse(s, store);
  return s.median;
}

/** The conservative price for minting (micro-USD per GW); throws NO_PRICE / PRICE_STALE / PRICE_UNCERTAIN. */
export function mintingPrice(store: KVReader, height: bigint): bigint {
  const s = priceState(store, height);
  if (!s.ok) refuse(s, store);
  if (s.mintingPrice <= 0n) {
    throw OracleErrors.PRICE_UNCERTAIN(
      `the conservative price is zero: median ${s.median}, ema ${s.ema}, confidence ${s.confidence} micro-USD/GW; wait for the reports to agree`,
    );
  }
  return s.mintingPrice;
}

/** Records a reporter's price at the current height (the handler checked the reporter and price). */
export function recordReport(ctx: Context, reporter: Bytes, price: bigint): void {
  const height = ctx.block.height;
  setReport(ctx.store, reporter, { price, height });
  ctx.emit('oracle.report', () => ({ reporter: encodeAddress(reporter), price, height }));
}

/** endBlock: move the EMA one step toward this block's median, if there is one. */
export function updateEma(ctx: Context): void {
  const height = ctx.block.height;
  const s = priceState(ctx.store, height);
  if (!s.ok) return;
  const p = getParams(ctx.store, 'oracle', oracleParams);
  const prev = getEma(ctx.store);
  // A moving average older than the staleness bound describes another market: start over.
  const ema = prev && isFresh(prev, height, p.maxAgeBlocks) ? emaStep(prev.ema, s.median, BigInt(p.emaAlphaBps)) : s.median;
  ctx.store.set(ORACLE_EMA_KEY, encode(emaStateCodec, { ema, height }, 16));
}
