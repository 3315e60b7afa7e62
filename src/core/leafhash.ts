/**
 * Two-level leaf hashing for Merkle manifests: leaf = SHA-256(head ‖ SHA-256(details)).
 *
 * A reward manifest line is hashed this way (head = tag, epoch, index, recipient, amount;
 * details = the canonical items behind the amount). At an epoch close there is one such leaf
 * per recipient, a million or more, so the hashing is an interface: `inlineLeafHasher` hashes
 * on the calling thread; core/leafworker hands the same work to a second core (a node uses it).
 * Both give the same bytes: the leaves are a pure function of the lines added, in order.
 */
import type { Bytes } from './bytes.js';
import { HASH_LEN, sha256Into } from './hash.js';

/** Bytes of a line's head (what precedes the details hash in the leaf preimage). */
export const LEAF_HEAD_LEN = 49;

export interface LeafJob {
  /** Adds the next line: `head` is LEAF_HEAD_LEN bytes, its details are details[0, detailsLen). */
  add(head: Bytes, details: Bytes, detailsLen: number): void;
  /** Every leaf in line order (lines × 32 bytes). The job is over after this. */
  finish(): Buffer;
}

export interface LeafHasher {
  /** Starts hashing one manifest; one job at a time per hasher. */
  start(): LeafJob;
}

/** Hashes each line as it is added, on the calling thread. */
export const inlineLeafHasher: LeafHasher = {
  start(): LeafJob {
    const pre = Buffer.alloc(LEAF_HEAD_LEN + HASH_LEN);
    let leaves = Buffer.allocUnsafe(HASH_LEN * 4096);
    let count = 0;
    return {
      add(head, details, detailsLen) {
        pre.set(head.subarray(0, LEAF_HEAD_LEN), 0);
        sha256Into(details.subarray(0, detailsLen), pre, LEAF_HEAD_LEN);
        if (leaves.length < (count + 1) * HASH_LEN) {
          const next = Buffer.allocUnsafe(leaves.length * 2);
          leaves.copy(next);
          leaves = next;
        }
        sha256Into(pre, leaves, count++ * HASH_LEN);
      },
      finish() {
        return leaves.subarray(0, count * HASH_LEN);
      },
    };
  },
};
