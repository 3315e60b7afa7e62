/**
 * oracle state keys.
 *
 * | prefix                      | value                                              |
 * | --------------------------- | -------------------------------------------------- |
 * | oracle/report/<address 20B> | PriceReport {price u64 micro-USD/GW, height u64}   |
 * | oracle/ema                  | EmaState {ema u64 micro-USD/GW, height u64}        |
 */
import { toKeyString, utf8, type Bytes } from '../../../core/bytes.js';

export const ORACLE_REPORT_PREFIX = utf8('oracle/report/');
export const ORACLE_EMA_KEY = utf8('oracle/ema');

const REPORT_PREFIX_S = 'oracle/report/';

/** The report key of a reporter, as a latin1 key string (what the store takes fastest). */
export function oracleReportKeyS(reporter: Bytes): string {
  return REPORT_PREFIX_S + toKeyString(reporter);
}

/** The report key of a reporter, as bytes (for verified reads through getState). */
export function oracleReportKey(reporter: Bytes): Bytes {
  const k = new Uint8Array(ORACLE_REPORT_PREFIX.length + reporter.length);
  k.set(ORACLE_REPORT_PREFIX, 0);
  k.set(reporter, ORACLE_REPORT_PREFIX.length);
  return k;
}
