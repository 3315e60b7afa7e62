/**
 * Verification of state proofs (pure; used by the SDK and CLI to check what a node says).
 */
import { equals, type Bytes } from '../core/bytes.js';
import { bytes, bytes32, list, struct, u16, union, unit, decode, encode } from '../core/codec.js';
import { sha256 } from '../core/hash.js';
import { EMPTY_ROOT, internalHash, leafHash, nibble, type StateProof } from './jmt.js';

/** Maximum value size any module may store (keeps proofs bounded). */
export const MAX_VALUE_BYTES = 1 << 20;

const stepCodec = struct('ProofStep', { bitmap: u16, siblings: list(bytes32, 15) });
const terminalCodec = union('ProofTerminal', {
  leaf: struct('ProofLeaf', { keyHash: bytes32, value: bytes(MAX_VALUE_BYTES) }),
  empty: unit,
});
const proofCodec = struct('StateProof', { steps: list(stepCodec, 64), terminal: terminalCodec });

/** Canonical binary form of a proof (what the API ships, base64-encoded). */
export function encodeProof(p: StateProof): Bytes {
  const terminal =
    p.terminal.type === 'leaf'
      ? { type: 'leaf' as const, value: { keyHash: p.terminal.keyHash, value: p.terminal.value } }
      : { type: 'empty' as const, value: null };
  return encode(proofCodec, { steps: p.steps.map((s) => ({ bitmap: s.bitmap, siblings: s.siblings })), terminal });
}

export function decodeProof(b: Bytes): StateProof {
  const p = decode(proofCodec, b);
  return {
    steps: p.steps,
    terminal: p.terminal.type === 'leaf' ? { type: 'leaf', ...p.terminal.value } : { type: 'empty' },
  };
}

function popcount16(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}

export type ProofCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks that `proof` shows `key` holding `value` (or, with value null, being absent) in the
 * tree whose root hash is `root`.
 */
export function checkProof(root: Bytes, key: Bytes, value: Bytes | null, proof: StateProof): ProofCheck {
  const keyHash = sha256(key);
  const depth = proof.steps.length;
  if (depth > 64) return { ok: false, reason: 'proof deeper than 64 levels' };
  let h: Bytes | null;
  const t = proof.terminal;
  if (t.type === 'leaf') {
    const same = equals(t.keyHash, keyHash);
    if (value !== null) {
      if (!same) return { ok: false, reason: 'proof ends at a different key' };
      if (!equals(t.value, value)) return { ok: false, reason: 'proof holds a different value' };
    } else {
      if (same) return { ok: false, reason: 'proof shows the key is present' };
      // The other leaf sits on the key's path, so it must share the path's prefix.
      for (let d = 0; d < depth; d++) {
        if (nibble(t.keyHash, d) !== nibble(keyHash, d)) return { ok: false, reason: 'proof leaf is off the key path' };
      }
    }
    h = leafHash(t.keyHash, t.value);
  } else {
    if (value !== null) return { ok: false, reason: 'proof shows the key is absent' };
    h = null;
  }
  for (let d = depth - 1; d >= 0; d--) {
    const step = proof.steps[d] as (typeof proof.steps)[number];
    const nib = nibble(keyHash, d);
    const bit = 1 << (15 - nib);
    const occupied = (step.bitmap & bit) !== 0;
    if (occupied !== (h !== null)) return { ok: false, reason: `proof bitmap disagrees with the path at depth ${d}` };
    const expected = popcount16(step.bitmap) - (occupied ? 1 : 0);
    if (step.siblings.length !== expected) return { ok: false, reason: `proof has a wrong sibling count at depth ${d}` };
    if (popcount16(step.bitmap) < 1) return { ok: false, reason: `proof has an empty node at depth ${d}` };
    const hashes: Bytes[] = [];
    let s = 0;
    for (let i = 0; i < 16; i++) {
      if (!(step.bitmap & (1 << (15 - i)))) continue;
      hashes.push(i === nib ? (h as Bytes) : (step.siblings[s++] as Bytes));
    }
    h = internalHash(step.bitmap, hashes);
  }
  const computed = h ?? EMPTY_ROOT;
  if (depth === 0 && t.type === 'empty' && !equals(root, EMPTY_ROOT)) return { ok: false, reason: 'tree is not empty' };
  if (!equals(computed, root)) return { ok: false, reason: 'proof does not lead to the expected root' };
  return { ok: true };
}
