import type { Client } from '../client.js';
import type { ClientError } from '../errors.js';
import { moduleQuery } from './moduleQuery.js';

export interface PriceReportView {
  reporter: string;
  /** micro-USD per GW. */
  price: bigint;
  height: bigint;
  /** Blocks between the report and `height` of the answer. */
  age: bigint;
  fresh: boolean;
}

export interface GetPriceReturnType {
  /** The height freshness is judged at (the next block's). */
  height: bigint;
  /** False when there is no usable price; `error` says why (NO_PRICE, PRICE_STALE). */
  ok: boolean;
  error?: string;
  /** Median of the fresh reports, micro-USD per GW. */
  median?: bigint;
  /** Moving average used for minting. */
  ema?: bigint;
  /** Mean absolute deviation of the fresh reports from the median. */
  confidence?: bigint;
  /** The conservative price Data Credit minting uses (0: too uncertain to mint). */
  mintingPrice?: bigint;
  freshCount: number;
  minReports: number;
  maxAgeBlocks: bigint;
  /** How many reporters governance lists. */
  reporters: number;
  reports: PriceReportView[];
}

export type GetPriceErrorType = ClientError;

interface PriceJSON {
  height: string;
  ok: boolean;
  error?: string;
  median?: string;
  ema?: string;
  confidence?: string;
  mintingPrice?: string;
  freshCount: number;
  minReports: number;
  maxAgeBlocks: string;
  reporters: number;
  reports: Array<{ reporter: string; price: string; height: string; age: string; fresh: boolean }>;
}

/**
 * The oracle's price as the node computes it (`GET /v1/q/oracle/price`): median, moving average,
 * minting price and each listed reporter's report with its age. The node's word, not a proof;
 * the reports themselves are state keys (oracle/report/<address>) a client can read with getState.
 */
export async function getPrice(client: Client): Promise<GetPriceReturnType> {
  const j = await moduleQuery<PriceJSON>(client, 'oracle', 'price');
  const out: GetPriceReturnType = {
    height: BigInt(j.height),
    ok: j.ok,
    freshCount: j.freshCount,
    minReports: j.minReports,
    maxAgeBlocks: BigInt(j.maxAgeBlocks),
    reporters: j.reporters,
    reports: j.reports.map((r) => ({ reporter: r.reporter, price: BigInt(r.price), height: BigInt(r.height), age: BigInt(r.age), fresh: r.fresh })),
  };
  if (j.error !== undefined) out.error = j.error;
  for (const k of ['median', 'ema', 'confidence', 'mintingPrice'] as const) {
    const v = j[k];
    if (v !== undefined) out[k] = BigInt(v);
  }
  return out;
}
