/**
 * The native token: integer base units (`ugw`, bigint) with 6 decimals; 1 GW = 1,000,000 ugw.
 * On the wire and in state an amount is a u128; parsing and formatting for people lives here.
 */
import { U128_MAX } from './codec.js';
import { InvalidInputError } from './errors.js';

export const DECIMALS = 6;
export const BASE_DENOM = 'ugw';
export const DISPLAY_DENOM = 'gw';
export const UNIT = 10n ** BigInt(DECIMALS);

const AMOUNT_RE = /^\s*([0-9]+)(?:\.([0-9]+))?\s*([a-zA-Z]+)\s*$/;

/**
 * Parses "1.5gw", "1.5 GW" or "1500000ugw" into base units. A bare number is refused: guessing
 * between tokens and base units is how people send a million times too much.
 */
export function parseAmount(input: string): bigint {
  const m = AMOUNT_RE.exec(input);
  if (!m) {
    if (/^\s*[0-9.]+\s*$/.test(input)) {
      throw new InvalidInputError(
        'INVALID_AMOUNT',
        `amount "${input}" has no unit: write ${input.trim()}${DISPLAY_DENOM} (tokens) or ${input.trim()}${BASE_DENOM} (base units)`,
      );
    }
    throw new InvalidInputError('INVALID_AMOUNT', `"${input}" is not an amount; examples: 1.5${DISPLAY_DENOM}, 1500000${BASE_DENOM}`);
  }
  const [, whole = '', frac = '', unitRaw = ''] = m;
  const unit = unitRaw.toLowerCase();
  let v: bigint;
  if (unit === BASE_DENOM) {
    if (frac) throw new InvalidInputError('INVALID_AMOUNT', `${BASE_DENOM} is the smallest unit; "${input}" has a fraction`);
    v = BigInt(whole);
  } else if (unit === DISPLAY_DENOM) {
    if (frac.length > DECIMALS) {
      throw new InvalidInputError('INVALID_AMOUNT', `"${input}" has more than ${DECIMALS} decimals (1${BASE_DENOM} = 0.000001${DISPLAY_DENOM})`);
    }
    v = BigInt(whole) * UNIT + BigInt(frac.padEnd(DECIMALS, '0') || '0');
  } else {
    throw new InvalidInputError('INVALID_AMOUNT', `unknown unit "${unitRaw}" in "${input}"; use ${DISPLAY_DENOM} or ${BASE_DENOM}`);
  }
  if (v > U128_MAX) throw new InvalidInputError('AMOUNT_OVERFLOW', `"${input}" exceeds the largest amount (2^128-1 ${BASE_DENOM})`);
  return v;
}

/** "1.5 GW", "0.000001 GW", "1,234,567.89 GW" (grouped, trailing zeros trimmed). */
export function formatAmount(v: bigint, opts: { group?: boolean } = {}): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const whole = (a / UNIT).toString();
  const frac = (a % UNIT).toString().padStart(DECIMALS, '0').replace(/0+$/, '');
  const w = opts.group === false ? whole : whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${w}${frac ? `.${frac}` : ''} ${DISPLAY_DENOM.toUpperCase()}`;
}

export function formatBase(v: bigint): string {
  return `${v}${BASE_DENOM}`;
}
