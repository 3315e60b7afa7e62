/**
 * Binary Merkle root over a list of 32-byte hashes (tx hashes, tx result hashes), so a block
 * header commits to the exact list and order. Internal node = SHA-256(0x01 || left || right);
 * a node without a right sibling is promoted unchanged (never duplicated: duplication lets two
 * different lists share a root). The empty list's root is SHA-256 of nothing.
 */
import type { Bytes } from './bytes.js';
import { sha256 } from './hash.js';

const EMPTY = sha256(new Uint8Array(0));

export function merkleRoot(leaves: readonly Bytes[]): Bytes {
  if (leaves.length === 0) return EMPTY;
  let level: Bytes[] = [...leaves];
  const buf = new Uint8Array(65);
  buf[0] = 0x01;
  while (level.length > 1) {
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
    level = next;
  }
  return level[0] as Bytes;
}
