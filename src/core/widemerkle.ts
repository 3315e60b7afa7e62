/**
 * A k-ary Merkle tree over 32-byte leaves, for large lists where commitment cost matters (an
 * epoch's reward manifest has a leaf per recipient, up to millions). Internal node =
 * SHA-256(0x01 || child_1 || … || child_m) over a group of m ≤ k consecutive nodes; a last group
 * of a single node is promoted unchanged. With k = 16 a tree costs one hash call per 15 leaves
 * (a binary tree: one per leaf) and a proof holds at most 15 hashes per level (5 levels for a
 * million leaves). The count and arity fix the shape, so a proof binds one position.
 *
 * Leaves live in one flat buffer (32 bytes each): no object per node.
 */
import { hash as oneShot } from 'node:crypto';
import type { Bytes } from './bytes.js';
import { sha256 } from './hash.js';

export const WIDE_ARITY = 16;
const EMPTY = sha256(new Uint8Array(0));

/** The level above a flat level of `n` nodes. */
function parentLevel(level: Buffer, n: number, k: number, scratch: Buffer): Buffer {
  const m = Math.ceil(n / k);
  const next = Buffer.allocUnsafe(m * 32);
  for (let g = 0; g < m; g++) {
    const start = g * k;
    const size = Math.min(k, n - start);
    if (size === 1) {
      level.copy(next, g * 32, start * 32, start * 32 + 32);
      continue;
    }
    level.copy(scratch, 1, start * 32, (start + size) * 32);
    next.write(oneShot('sha256', scratch.subarray(0, 1 + size * 32), 'binary'), g * 32, 'latin1');
  }
  return next;
}

/** Every level, leaves first, root last (for proofs). */
export function wideLevels(leaves: Buffer, n: number, k = WIDE_ARITY): Buffer[] {
  const levels = [leaves.subarray(0, n * 32)];
  const scratch = Buffer.allocUnsafe(1 + k * 32);
  scratch[0] = 0x01;
  let cur = levels[0] as Buffer;
  let count = n;
  while (count > 1) {
    cur = parentLevel(cur, count, k, scratch);
    count = Math.ceil(count / k);
    levels.push(cur);
  }
  return levels;
}

export function wideRoot(leaves: Buffer, n: number, k = WIDE_ARITY): Bytes {
  if (n === 0) return EMPTY;
  const levels = wideLevels(leaves, n, k);
  return Buffer.from((levels[levels.length - 1] as Buffer).subarray(0, 32));
}

/** The proof for leaf `index`: at each level, the other members of its group, in order. */
export function wideProof(levels: readonly Buffer[], n: number, index: number, k = WIDE_ARITY): Bytes[] {
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new RangeError(`leaf ${index} is not in a list of ${n}`);
  const proof: Bytes[] = [];
  let i = index;
  let count = n;
  for (let l = 0; count > 1; l++) {
    const level = levels[l] as Buffer;
    const start = Math.floor(i / k) * k;
    const size = Math.min(k, count - start);
    if (size > 1) for (let j = start; j < start + size; j++) if (j !== i) proof.push(Buffer.from(level.subarray(j * 32, j * 32 + 32)));
    i = Math.floor(i / k);
    count = Math.ceil(count / k);
  }
  return proof;
}

export function verifyWideProof(leaf: Bytes, index: number, count: number, proof: readonly Bytes[], root: Bytes, k = WIDE_ARITY): boolean {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count || leaf.length !== 32) return false;
  const scratch = Buffer.allocUnsafe(1 + k * 32);
  scratch[0] = 0x01;
  let h: Bytes = leaf;
  let i = index;
  let n = count;
  let used = 0;
  while (n > 1) {
    const start = Math.floor(i / k) * k;
    const size = Math.min(k, n - start);
    if (size > 1) {
      for (let j = 0; j < size; j++) {
        const node = start + j === i ? h : proof[used++];
        if (node === undefined || node.length !== 32) return false;
        scratch.set(node, 1 + j * 32);
      }
      h = sha256(scratch.subarray(0, 1 + size * 32));
    }
    i = Math.floor(i / k);
    n = Math.ceil(n / k);
  }
  return used === proof.length && Buffer.compare(Buffer.from(h), Buffer.from(root)) === 0;
}
