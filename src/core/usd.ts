/**
 * US dollar prices as integer micro-USD (1 USD = 1,000,000 µUSD), and Data Credit counts, for
 * people: "0.42" or "$0.42" ↔ 420000. String arithmetic only (no floats), so what a person
 * types is exactly what the chain gets.
 */
import { U64_MAX } from './codec.js';
import { InvalidInputError } from './errors.js';

export const USD_DECIMALS = 6;
export const MICRO_USD = 10n ** BigInt(USD_DECIMALS);

const USD_RE = /^\s*\$?\s*([0-9]+|[0-9]*\.[0-9]+)\s*(?:usd)?\s*$/i;

/**
 * Parses a USD amount ("0.42", "$0.42", "1.5 USD", "$.5") into micro-USD. More than 6 decimals
 * is refused rather than rounded (the chain's unit is 1 µUSD).
 */
export function parseUsd(input: string): bigint {
  const m = USD_RE.exec(input);
  if (!m) throw new InvalidInputError('INVALID_PRICE', `"${input}" is not a USD amount; examples: 0.42, $0.42, 1.5usd`);
  const [whole = '', frac = ''] = (m[1] as string).split('.');
  if (frac.length > USD_DECIMALS) {
    throw new InvalidInputError('INVALID_PRICE', `"${input}" has more than ${USD_DECIMALS} decimals: prices are whole micro-USD ($0.000001)`);
  }
  const v = BigInt(whole || '0') * MICRO_USD + BigInt(frac.padEnd(USD_DECIMALS, '0'));
  if (v > U64_MAX) throw new InvalidInputError('INVALID_PRICE', `"${input}" is too large (at most ${formatUsd(U64_MAX)})`);
  return v;
}

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "$0.42", "$1,234.5678", "$0.00001": grouped, trailing zeros trimmed to at least cents. */
export function formatUsd(microUsd: bigint): string {
  const neg = microUsd < 0n;
  const a = neg ? -microUsd : microUsd;
  let frac = (a % MICRO_USD).toString().padStart(USD_DECIMALS, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return `${neg ? '-' : ''}$${group((a / MICRO_USD).toString())}.${frac}`;
}

/** "1,234,567 DC". */
export function formatDc(dc: bigint): string {
  return `${dc < 0n ? '-' : ''}${group((dc < 0n ? -dc : dc).toString())} DC`;
}
