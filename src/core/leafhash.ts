/**
 * Two-level leaf hashing for Merkle manifests, over lines the caller writes once into memory the
 * hasher hands out:
 *
 *   leaf i = SHA-256(prefix ‖ u32be(i) ‖ line[0, headLen) ‖ SHA-256(line[headLen, end)))
 *
 * A reward manifest line is hashed this way (prefix = tag ‖ epoch; the line = recipient ‖ amount
 * ‖ its items list, exactly the bytes the artifact stores). At an epoch close there is one such
 * leaf per recipient, a million or more, so the hashing is an interface: `inlineLeafHasher`
 * hashes on the calling thread; core/leafworker hands the same work to a second core (a node uses
 * it) and reads the lines straight from the caller's buffers (shared memory). Both give the same
 * bytes: the leaves are a pure function of the lines added, in order.
 */
import type { Bytes } from './bytes.js';
import { HASH_LEN } from './hash.js';
import { hashLineInto } from './leafline.js';

export interface LeafJob {
  /**
   * Fresh memory of `bytes` bytes for lines (shared with the hashing thread where there is one).
   * Lines added from now on are read from it, the next one starting at `from`. A buffer's bytes
   * up to the end of its last added line must not change afterwards (the caller keeps them, e.g.
   * as an artifact); to grow, the caller takes a bigger buffer and copies what it needs.
   */
  buffer(bytes: number, from: number): Buffer;
  /** Adds the next line: the current buffer from the previous line's end (or `from`) to `end`. */
  add(end: number): void;
  /**
   * Every leaf in line order (lines × 32 bytes). The job is over after this; the bytes may be
   * the hasher's own memory, valid until its next start().
   */
  finish(): Buffer;
}

export interface LeafHasher {
  /**
   * Starts hashing one manifest (one job at a time per hasher): each leaf's preimage starts with
   * `prefix` and the line's index, then the line's first `headLen` bytes, then the hash of the rest.
   */
  start(prefix: Bytes, headLen: number): LeafJob;
}

/** Hashes each line as it is added, on the calling thread. */
export const inlineLeafHasher: LeafHasher = {
  start(prefix, headLen): LeafJob {
    const at = prefix.length;
    const pre = Buffer.alloc(at + 4 + headLen + HASH_LEN);
    pre.set(prefix, 0);
    let leaves = Buffer.allocUnsafe(HASH_LEN * 4096);
    let count = 0;
    let buf: Buffer = Buffer.alloc(0);
    let start = 0;
    return {
      buffer(bytes, from) {
        // allocUnsafeSlow: memory of its own (never Node's pooled slab, which is reused).
        buf = Buffer.allocUnsafeSlow(bytes);
        start = from;
        return buf;
      },
      add(end) {
        if (leaves.length < (count + 1) * HASH_LEN) {
          const next = Buffer.allocUnsafe(leaves.length * 2);
          leaves.copy(next);
          leaves = next;
        }
        hashLineInto(buf, start, end, headLen, count, pre, at, leaves, count * HASH_LEN);
        count++;
        start = end;
      },
      finish() {
        return leaves.subarray(0, count * HASH_LEN);
      },
    };
  },
};
