/**
 * Piece roots (core/shardtree: pieceRoot over the leafHash of each LEAF_SIZE leaf) computed
 * straight from a buffer, the inner loop of encoding, of verifying fetched pieces and of a
 * provider checking an upload. Same bytes as the shardtree functions (tests check).
 *
 * Two implementations of the same hashes: the native kernels (storage/kernels: one call per
 * buffer, OpenSSL's SHA-256 as linked into Node.js), used when they loaded, and JavaScript
 * (`jsPieceHash`), the fallback. In JavaScript a leaf costs a hash object, two updates and a
 * digest (about as long as hashing its 4 KiB): each leaf is hashed as 0x00 then a view of it
 * (copying it behind the tag for the one-shot crypto.hash is as fast for private memory but 20%
 * slower for the SharedArrayBuffers the encoder's stripes live in), the digest written into a
 * level buffer that the in-piece tree is then folded over in place (a piece is a power-of-two
 * number of leaves: a complete tree, no promoted nodes).
 */
import { createHash, hash } from 'node:crypto';
import type { Bytes } from '../core/bytes.js';
import { leavesPerPiece, LEAF_SIZE } from '../core/shardtree.js';
import { nativeKernels } from './kernels.js';

const HASH = 32;

const LEAF_TAG = Uint8Array.of(0x00);
// Scratch, reused by every call on this thread (the functions are synchronous).
const nodeBuf = Buffer.alloc(1 + 2 * HASH);
nodeBuf[0] = 0x01;
let level = Buffer.alloc(HASH * 256);

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** The hashing kernels (arguments already checked by the exported functions below). */
export interface PieceHashKernels {
  /** Leaf hashes of `leaves` consecutive leaves from src[offset] to out[outOffset + 32 i]. */
  leafHashes(src: Uint8Array, offset: number, leaves: number, out: Uint8Array, outOffset: number): void;
  /** Roots of `count` consecutive pieces of `pieceSize` bytes from src[offset] to out[outOffset + 32 i]. */
  pieceRoots(src: Uint8Array, offset: number, pieceSize: number, count: number, out: Uint8Array, outOffset: number): void;
  /** Folds `count` (a power of two) hashes at hashes[offset] into their root, in place, left at hashes[offset]. */
  foldSubtree(hashes: Uint8Array, offset: number, count: number): void;
}

/** The JavaScript kernels (node:crypto, one call per leaf and per node). */
export const jsPieceHash: PieceHashKernels = {
  leafHashes(buf, offset, leaves, out, outOffset) {
    const src = asBuffer(buf);
    const dst = asBuffer(out);
    for (let i = 0; i < leaves; i++) {
      const at = offset + i * LEAF_SIZE;
      dst.write(createHash('sha256').update(LEAF_TAG).update(src.subarray(at, at + LEAF_SIZE)).digest('binary'), outOffset + i * HASH, 'latin1');
    }
  },
  pieceRoots(buf, offset, pieceSize, count, out, outOffset) {
    const leaves = pieceSize / LEAF_SIZE;
    const dst = asBuffer(out);
    if (level.length < leaves * HASH) level = Buffer.alloc(leaves * HASH);
    for (let p = 0; p < count; p++) {
      jsPieceHash.leafHashes(buf, offset + p * pieceSize, leaves, level, 0);
      jsPieceHash.foldSubtree(level, 0, leaves);
      level.copy(dst, outOffset + p * HASH, 0, HASH);
    }
  },
  foldSubtree(hashes, offset, count) {
    const level = asBuffer(hashes);
    for (let width = count; width > 1; width >>= 1) {
      for (let i = 0; i < width >> 1; i++) {
        level.copy(nodeBuf, 1, offset + 2 * i * HASH, offset + (2 * i + 2) * HASH);
        level.write(hash('sha256', nodeBuf, 'binary'), offset + i * HASH, 'latin1');
      }
    }
  },
};

/** The native kernels, or null where the addon did not load (storage/kernels). */
export const nativePieceHash: PieceHashKernels | null = nativeKernels;
const kernels: PieceHashKernels = nativePieceHash ?? jsPieceHash;
/** Which kernels this process hashes with. */
export const pieceHashImplementation: 'native' | 'javascript' = nativePieceHash ? 'native' : 'javascript';

/**
 * Writes the leaf hashes (SHA-256(0x00 || leaf)) of `leaves` consecutive LEAF_SIZE leaves, the
 * first at `offset` of `buf`, to out[outOffset + 32 i].
 */
export function leafHashesInto(buf: Uint8Array, offset: number, leaves: number, out: Uint8Array, outOffset: number): void {
  const src = asBuffer(buf);
  const dst = asBuffer(out);
  if (offset < 0 || offset + leaves * LEAF_SIZE > src.length) throw new RangeError(`${leaves} leaves at ${offset} overrun a buffer of ${src.length}`);
  if (outOffset < 0 || outOffset + leaves * HASH > dst.length) throw new RangeError('leaf hash output too small');
  kernels.leafHashes(src, offset, leaves, dst, outOffset);
}

/**
 * Folds `count` hashes at `offset` of `hashes` (a power of two of them: a complete subtree, as a
 * piece's leaves are) into their root, in place: the hashes are overwritten; the root ends up at
 * `offset`.
 */
export function foldSubtree(hashes: Uint8Array, offset: number, count: number): void {
  if ((count & (count - 1)) !== 0 || count < 1) throw new RangeError(`a complete subtree has a power-of-two number of leaves, not ${count}`);
  if (!Number.isInteger(offset) || offset < 0 || offset + count * HASH > hashes.length) throw new RangeError(`${count} hashes at ${offset} overrun an array of ${hashes.length}`);
  kernels.foldSubtree(hashes, offset, count);
}

/**
 * Writes the roots of `count` consecutive pieces of `pieceSize` bytes, the first at `offset` of
 * `buf`, to out[outOffset + 32 i].
 */
export function pieceRootsInto(buf: Uint8Array, offset: number, pieceSize: number, count: number, out: Uint8Array, outOffset: number): void {
  leavesPerPiece(pieceSize); // throws for an invalid piece size
  const dst = asBuffer(out);
  if (offset < 0 || offset + count * pieceSize > buf.length) throw new RangeError(`${count} pieces of ${pieceSize} bytes at ${offset} overrun a buffer of ${buf.length}`);
  if (outOffset < 0 || outOffset + count * HASH > dst.length) throw new RangeError('piece root output too small');
  kernels.pieceRoots(buf, offset, pieceSize, count, dst, outOffset);
}

/** The root of one piece (its length must be a valid piece size). */
export function pieceRootOf(piece: Uint8Array): Bytes {
  const out = Buffer.allocUnsafe(HASH);
  pieceRootsInto(piece, 0, piece.length, 1, out, 0);
  return out;
}

/**
 * A shard root folded from its piece roots as they come, in order, in O(log n) memory: equal to
 * core/shardtree shardRoot (core/merkle's tree, where a lone last node is promoted). That tree
 * is the complete subtrees of the binary decomposition of n, largest first, joined from the
 * right, which is what the stack below keeps: one node per set bit of the count so far.
 */
export class ShardRootBuilder {
  private readonly nodes: Buffer[] = [];
  private readonly heights: number[] = [];
  private count = 0;

  /** Appends the next piece root (32 bytes). */
  push(pieceRootHash: Uint8Array): void {
    let h: Buffer = Buffer.from(pieceRootHash);
    let height = 0;
    while (this.heights.length > 0 && this.heights[this.heights.length - 1] === height) {
      h = join(this.nodes.pop() as Buffer, h);
      this.heights.pop();
      height++;
    }
    this.nodes.push(h);
    this.heights.push(height);
    this.count++;
  }

  /** Piece roots pushed so far. */
  get size(): number {
    return this.count;
  }

  /** The root over every piece root pushed (SHA-256 of nothing if none). */
  root(): Bytes {
    if (this.nodes.length === 0) return hash('sha256', new Uint8Array(0), 'buffer');
    let r = this.nodes[this.nodes.length - 1] as Buffer;
    for (let i = this.nodes.length - 2; i >= 0; i--) r = join(this.nodes[i] as Buffer, r);
    return r;
  }
}

function join(left: Uint8Array, right: Uint8Array): Buffer {
  nodeBuf.set(left, 1);
  nodeBuf.set(right, 33);
  return hash('sha256', nodeBuf, 'buffer');
}
