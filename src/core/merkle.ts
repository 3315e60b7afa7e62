/**
 * Binary Merkle root over a list of 32-byte hashes (tx hashes, tx result hashes), so a block
 * header commits to the exact list and order. Internal node = SHA-256(0x01 || left || right);
 * a node without a right sibling is promoted unchanged (never duplicated: duplication lets two
 * different lists share a root). The empty list's root is SHA-256 of nothing.
 */
import type { Bytes } from './bytes.js';
import { sha256 } from './hash.js';

const EMPTY = sha256(new Uint8Array(0));

/** The level above `level`: pairs hashed as SHA-256(0x01 || left || right), a lone last node promoted. */
function parentLevel(level: readonly Bytes[], buf: Uint8Array): Bytes[] {
  const next: Bytes[] = [];
  for (let i = 0; i < level.length; i += 2) {
    const right = level[i + 1];
    if (right === undefined) {
      next.push(level[i] as Bytes);
      continue;
    }
    buf.set(level[i] as Bytes, 1);
    buf.set(right, 33);
    next.push(sha256(buf));
  }
  return next;
}

function nodeBuffer(): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = 0x01;
  return buf;
}

export function merkleRoot(leaves: readonly Bytes[]): Bytes {
  if (leaves.length === 0) return EMPTY;
  const buf = nodeBuffer();
  let level: readonly Bytes[] = leaves;
  while (level.length > 1) level = parentLevel(level, buf);
  return level[0] as Bytes;
}

/**
 * Inclusion proof for `leaves[index]` under `merkleRoot(leaves)`: the sibling at each level,
 * bottom up, skipping levels where the node is the promoted last one (it has no sibling).
 */
export function merkleProof(leaves: readonly Bytes[], index: number): Bytes[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new RangeError(`leaf ${index} is not in a list of ${leaves.length}`);
  const proof: Bytes[] = [];
  const buf = nodeBuffer();
  let level: readonly Bytes[] = leaves;
  let i = index;
  while (level.length > 1) {
    const sibling = i % 2 === 0 ? level[i + 1] : level[i - 1];
    if (sibling !== undefined) proof.push(sibling);
    level = parentLevel(level, buf);
    i = Math.floor(i / 2);
  }
  return proof;
}

/**
 * Checks that `leaf` is entry `index` of a list of `count` leaves whose root is `root`. The
 * count fixes the tree's shape (where a node is promoted), so a proof for one position never
 * passes for another.
 */
export function verifyMerkleProof(leaf: Bytes, index: number, count: number, proof: readonly Bytes[], root: Bytes): boolean {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) return false;
  let h = leaf;
  let i = index;
  let n = count;
  let used = 0;
  const buf = nodeBuffer();
  while (n > 1) {
    const promoted = i === n - 1 && n % 2 === 1;
    if (!promoted) {
      const sibling = proof[used++];
      if (sibling === undefined || sibling.length !== 32) return false;
      if (i % 2 === 0) {
        buf.set(h, 1);
        buf.set(sibling, 33);
      } else {
        buf.set(sibling, 1);
        buf.set(h, 33);
      }
      h = sha256(buf);
    }
    i = Math.floor(i / 2);
    n = Math.ceil(n / 2);
  }
  if (used !== proof.length || h.length !== root.length) return false;
  for (let k = 0; k < h.length; k++) if (h[k] !== root[k]) return false;
  return true;
}
