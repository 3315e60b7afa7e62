/**
 * The Merkle layout of a stored shard, shared by the client (which computes the roots), the
 * provider (which proves leaves and serves pieces) and the chain (which verifies proofs).
 *
 * A shard is the concatenation of its pieces, one per segment of the file, every piece exactly
 * `pieceSize` bytes (a power of two from LEAF_SIZE to MAX_PIECE_SIZE). Leaves are LEAF_SIZE
 * bytes; leaf hash = SHA-256(0x00 || leaf); internal nodes and the promotion of a lone last node
 * are core/merkle's. Because a piece is a power-of-two number of whole leaves, each piece is a
 * complete subtree: its root (`pieceRoot`) can be checked against the shard root with a short
 * path over the piece roots (`verifyPiece`), and the shard root is merkleRoot(piece roots)
 * (equal to merkleRoot over all leaf hashes). The empty shard's root is SHA-256 of nothing.
 */
import type { Bytes } from './bytes.js';
import { sha256Parts } from './hash.js';
import { merkleProof, merkleRoot, verifyMerkleProof } from './merkle.js';

export const LEAF_SIZE = 4096;
export const MAX_PIECE_SIZE = 1 << 20;

const LEAF_TAG = Uint8Array.of(0x00);

/** SHA-256(0x00 || leaf): the leaf's hash in a shard tree (domain-separated from nodes). */
export function leafHash(leaf: Bytes): Bytes {
  return sha256Parts(LEAF_TAG, leaf);
}

/** Whether `n` is a valid piece size: a power of two from LEAF_SIZE to MAX_PIECE_SIZE. */
export function isPieceSize(n: number): boolean {
  return Number.isInteger(n) && n >= LEAF_SIZE && n <= MAX_PIECE_SIZE && (n & (n - 1)) === 0;
}

/** Leaves in a piece of `pieceSize` bytes. */
export function leavesPerPiece(pieceSize: number): number {
  if (!isPieceSize(pieceSize)) throw new RangeError(`piece size ${pieceSize} is not a power of two from ${LEAF_SIZE} to ${MAX_PIECE_SIZE}`);
  return pieceSize / LEAF_SIZE;
}

/** Root of one piece from its leaf hashes (a complete subtree). */
export function pieceRoot(leafHashes: readonly Bytes[]): Bytes {
  return merkleRoot(leafHashes);
}

/** The shard root from its piece roots, in order. */
export function shardRoot(pieceRoots: readonly Bytes[]): Bytes {
  return merkleRoot(pieceRoots);
}

/** Path from piece `index`'s root to the shard root (give it with the piece when serving it). */
export function pieceProof(pieceRoots: readonly Bytes[], index: number): Bytes[] {
  return merkleProof(pieceRoots, index);
}

/** Whether a piece with root `root_` is piece `index` of `count` under the shard root. */
export function verifyPiece(pieceRootHash: Bytes, index: number, count: number, proof: readonly Bytes[], root: Bytes): boolean {
  return verifyMerkleProof(pieceRootHash, index, count, proof, root);
}

/**
 * Path from leaf `leaf` of a shard to its root, given the leaf hashes of the leaf's piece and
 * all piece roots: the leaf's path inside its piece, then the piece's path.
 */
export function leafProof(pieceLeafHashes: readonly Bytes[], pieceRoots: readonly Bytes[], leaf: number): Bytes[] {
  const per = pieceLeafHashes.length;
  const piece = Math.floor(leaf / per);
  return [...merkleProof(pieceLeafHashes, leaf % per), ...merkleProof(pieceRoots, piece)];
}

/**
 * Whether `data` (LEAF_SIZE bytes) is leaf `index` of a shard of `leafCount` leaves with root
 * `root`: what the chain checks for a storage challenge.
 */
export function verifyLeaf(data: Bytes, index: number, leafCount: number, proof: readonly Bytes[], root: Bytes): boolean {
  if (data.length !== LEAF_SIZE) return false;
  return verifyMerkleProof(leafHash(data), index, leafCount, proof, root);
}
