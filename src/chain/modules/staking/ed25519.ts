/**
 * Whether 32 bytes decode to a point of the Ed25519 curve (RFC 8032 §5.1.3), in plain bigint
 * arithmetic: chain code may not call node:crypto, and OpenSSL imports a public key without
 * checking it. A consensus key that is not a point can never sign, so an operator declaring one
 * is told at once instead of silently never validating.
 *
 * Small-order points pass (they decode); they cannot hurt anyone but their owner, whose own
 * stake is all such a key could ever vote with.
 */
import type { Bytes } from '../../../core/bytes.js';

const P = (1n << 255n) - 19n;

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function pow(base: bigint, exp: bigint): bigint {
  let r = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

/** d = -121665 / 121666 (mod p); inverse by Fermat: a^(p-2). */
const D = mod(-121665n * pow(121666n, P - 2n));
/** A square root of -1: 2^((p-1)/4). */
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

export function isEd25519Point(b: Bytes): boolean {
  if (b.length !== 32) return false;
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(b[i] as number);
  const sign = y >> 255n;
  y &= (1n << 255n) - 1n;
  if (y >= P) return false;
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  // Candidate root x = u v^3 (u v^7)^((p-5)/8).
  const v3 = (((v * v) % P) * v) % P;
  const v7 = (((v3 * v3) % P) * v) % P;
  let x = (((u * v3) % P) * pow((u * v7) % P, (P - 5n) / 8n)) % P;
  const vx2 = (((v * x) % P) * x) % P;
  if (vx2 !== u) {
    if (vx2 !== mod(-u)) return false;
    x = (x * SQRT_M1) % P;
  }
  return !(x === 0n && sign === 1n);
}
