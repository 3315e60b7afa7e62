/**
 * Bech32 (BIP-173) for exactly 20-byte payloads, on the hot path: every event that names an
 * account formats its address, and a general-purpose encoder (array radix conversion) costs
 * ~10 µs where this costs ~1 µs. Anything outside the fast path (other lengths, upper case,
 * invalid input) is left to @scure/base by the caller, which also gives the precise error.
 * Equivalence with @scure/base is property-tested (bech32.test.ts).
 */
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const;
const CHAR_CODES = Array.from(CHARSET, (c) => c.charCodeAt(0));
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < CHARSET.length; i++) VALUE[CHARSET.charCodeAt(i)] = i;

function step(pre: number): number {
  const b = pre >>> 25;
  let chk = (pre & 0x1ffffff) << 5;
  if (b & 1) chk ^= GEN[0];
  if (b & 2) chk ^= GEN[1];
  if (b & 4) chk ^= GEN[2];
  if (b & 8) chk ^= GEN[3];
  if (b & 16) chk ^= GEN[4];
  return chk;
}

function prefixState(hrp: string): number {
  let chk = 1;
  for (let i = 0; i < hrp.length; i++) chk = step(chk) ^ (hrp.charCodeAt(i) >> 5);
  chk = step(chk);
  for (let i = 0; i < hrp.length; i++) chk = step(chk) ^ (hrp.charCodeAt(i) & 0x1f);
  return chk;
}

const states = new Map<string, number>();
function stateOf(hrp: string): number {
  let s = states.get(hrp);
  if (s === undefined) {
    s = prefixState(hrp);
    states.set(hrp, s);
  }
  return s;
}

/**
 * Regroups `n` values of `from` bits into values of `to` bits (big-endian bit order). For 20
 * bytes ↔ 32 five-bit words (160 bits) nothing is left over, so no padding is involved.
 */
function regroup(src: ArrayLike<number>, n: number, from: number, to: number, out: { [i: number]: number }): void {
  const mask = (1 << to) - 1;
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < n; i++) {
    acc = ((acc << from) | (src[i] as number)) & 0xfff;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out[o++] = (acc >>> bits) & mask;
    }
  }
}

// Scratch for encode20 (synchronous, so one set serves every call).
const WORDS: number[] = new Array<number>(32).fill(0);
const CODES: number[] = new Array<number>(38).fill(0);

/** Encodes a 20-byte payload with a lower-case prefix. */
export function encode20(hrp: string, data: Uint8Array): string {
  const words = WORDS;
  regroup(data, 20, 8, 5, words);
  let chk = stateOf(hrp);
  for (let i = 0; i < 32; i++) chk = step(chk) ^ (words[i] as number);
  for (let i = 0; i < 6; i++) chk = step(chk);
  chk ^= 1;
  const codes = CODES;
  for (let i = 0; i < 32; i++) codes[i] = CHAR_CODES[words[i] as number] as number;
  for (let i = 0; i < 6; i++) codes[32 + i] = CHAR_CODES[(chk >>> (5 * (5 - i))) & 31] as number;
  return hrp + '1' + String.fromCharCode.apply(null, codes);
}

/**
 * Decodes a lower-case bech32 string with prefix `hrp` holding 20 bytes; undefined when it is
 * not exactly that (the caller then asks the general decoder for the reason).
 */
export function decode20(hrp: string, s: string): Uint8Array | undefined {
  if (s.length !== hrp.length + 39 || !s.startsWith(hrp) || s.charCodeAt(hrp.length) !== 49 /* '1' */) return undefined;
  let chk = stateOf(hrp);
  const words = new Array<number>(32);
  for (let i = 0; i < 38; i++) {
    const c = s.charCodeAt(hrp.length + 1 + i);
    const v = c < 128 ? (VALUE[c] as number) : -1;
    if (v < 0) return undefined;
    chk = step(chk) ^ v;
    if (i < 32) words[i] = v;
  }
  if (chk !== 1) return undefined;
  const out = new Uint8Array(20);
  regroup(words, 32, 5, 8, out);
  return out;
}
