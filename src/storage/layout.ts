/**
 * The layout of a stored file (the storage contract): how a file of `size` bytes under a k + m
 * erasure code is cut into segments and pieces, and the manifest the customer keeps.
 *
 * Each segment holds up to k × pieceSize − 16 plaintext bytes: sealed with AES-256-GCM (its
 * 16-byte tag appended) and zero-padded it is exactly k data pieces, to which the erasure code
 * adds m parity pieces. Piece j of every segment goes to shard j, so shard j is `segments`
 * pieces back to back and every shard has the same size. The piece size is the smallest power
 * of two (at least one leaf) that fits the whole file in one segment, capped at MAX_PIECE_SIZE:
 * a small file pays at most 2× padding instead of a MiB per shard, and a large one is streamed
 * in segments of k MiB, so encoding and decoding hold a few segments in memory, never the file.
 */
import { InvalidInputError } from '../core/errors.js';
import { LEAF_SIZE, MAX_PIECE_SIZE } from '../core/shardtree.js';

/** The AES-GCM tag sealed into every segment. */
export const SEGMENT_OVERHEAD = 16;
export const DEFAULT_DATA_SHARDS = 4;
export const DEFAULT_PARITY_SHARDS = 2;
/** The contract's bound on k + m. */
export const MAX_SHARDS = 32;
/**
 * The erasure library's bounds (@ronomon/reed-solomon: a Cauchy matrix over GF(2^8) sized at
 * compile time). Tighter than MAX_SHARDS: a 4+2 to 24+6 code covers every layout in use.
 */
export const MAX_DATA_SHARDS = 24;
export const MAX_PARITY_SHARDS = 6;

export interface FileLayout {
  readonly size: number;
  /** Data shards. */
  readonly k: number;
  /** Parity shards. */
  readonly m: number;
  /** Shards in all: k + m. */
  readonly n: number;
  readonly pieceSize: number;
  /** Plaintext bytes in every segment but the last: k × pieceSize − 16. */
  readonly segmentCapacity: number;
  readonly segments: number;
  /** Bytes of each shard: segments × pieceSize. */
  readonly shardBytes: number;
}

function assertCounts(k: number, m: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_DATA_SHARDS) {
    throw new InvalidInputError('INVALID_ERASURE_CODE', `data shards (k) must be an integer from 1 to ${MAX_DATA_SHARDS}, not ${k}`);
  }
  if (!Number.isInteger(m) || m < 0 || m > MAX_PARITY_SHARDS) {
    throw new InvalidInputError('INVALID_ERASURE_CODE', `parity shards (m) must be an integer from 0 to ${MAX_PARITY_SHARDS}, not ${m}`);
  }
  if (k + m > MAX_SHARDS) throw new InvalidInputError('INVALID_ERASURE_CODE', `k + m must be at most ${MAX_SHARDS}, not ${k + m}`);
}

/** The layout of a file of `size` bytes under a k + m code (the storage contract's rules). */
export function fileLayout(size: number, k: number = DEFAULT_DATA_SHARDS, m: number = DEFAULT_PARITY_SHARDS): FileLayout {
  if (!Number.isSafeInteger(size) || size < 0) throw new InvalidInputError('INVALID_SIZE', `file size must be a non-negative safe integer, not ${size}`);
  assertCounts(k, m);
  let pieceSize = MAX_PIECE_SIZE;
  if (size + SEGMENT_OVERHEAD <= k * MAX_PIECE_SIZE) {
    const need = Math.ceil((size + SEGMENT_OVERHEAD) / k);
    pieceSize = LEAF_SIZE;
    while (pieceSize < need) pieceSize *= 2;
  }
  const segmentCapacity = k * pieceSize - SEGMENT_OVERHEAD;
  const segments = Math.max(1, Math.ceil(size / segmentCapacity));
  return { size, k, m, n: k + m, pieceSize, segmentCapacity, segments, shardBytes: segments * pieceSize };
}

/** Plaintext bytes of segment `s`: [start, end) of the file. */
export function segmentRange(layout: FileLayout, s: number): { start: number; end: number } {
  const start = s * layout.segmentCapacity;
  return { start, end: Math.min(layout.size, start + layout.segmentCapacity) };
}

/** The customer's record of a stored file (JSON). Hex strings are lower case. */
export interface Manifest {
  readonly version: 1;
  readonly size: number;
  readonly k: number;
  readonly m: number;
  readonly pieceSize: number;
  readonly segments: number;
  readonly shardBytes: number;
  /** Shard roots (core/shardtree), one per shard, data shards first. */
  readonly roots: readonly string[];
  /** The 32-byte AES-256-GCM file key. */
  readonly key: string;
  /** SHA-256 of the plaintext. */
  readonly sha256: string;
  readonly name: string;
}

/** The layout a manifest describes. */
export function manifestLayout(manifest: Manifest): FileLayout {
  return fileLayout(manifest.size, manifest.k, manifest.m);
}

/** The manifest as JSON text, fields in the contract's order. */
export function formatManifest(manifest: Manifest, indent = 2): string {
  const { version, size, k, m, pieceSize, segments, shardBytes, roots, key, sha256, name } = manifest;
  return JSON.stringify({ version, size, k, m, pieceSize, segments, shardBytes, roots, key, sha256, name }, null, indent);
}

const HEX32 = /^[0-9a-fA-F]{64}$/;

function bad(message: string): InvalidInputError {
  return new InvalidInputError('INVALID_MANIFEST', `invalid manifest: ${message}`);
}

function hex32(v: unknown, what: string): string {
  if (typeof v !== 'string' || !HEX32.test(v)) throw bad(`${what} must be 64 hex characters`);
  return v.toLowerCase();
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${what} must be a non-negative integer`);
  return v;
}

/**
 * Checks a manifest (JSON text or an already parsed value) and returns it typed, hex in lower
 * case. The derived fields (pieceSize, segments, shardBytes) must equal what the layout rules
 * give for size, k and m: a manifest is never trusted to describe a layout of its own. Fields
 * the contract does not name are dropped. Throws InvalidInputError INVALID_MANIFEST naming the
 * first bad field.
 */
export function parseManifest(input: unknown): Manifest {
  let v = input;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch (e) {
      throw new InvalidInputError('INVALID_MANIFEST', 'invalid manifest: not JSON', { cause: e });
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('not a JSON object');
  const o = v as Record<string, unknown>;
  if (o.version !== 1) throw bad(`version ${JSON.stringify(o.version)} is not supported (expected 1)`);
  const size = count(o.size, 'size');
  const k = count(o.k, 'k');
  const m = count(o.m, 'm');
  let layout: FileLayout;
  try {
    layout = fileLayout(size, k, m);
  } catch (e) {
    throw new InvalidInputError('INVALID_MANIFEST', `invalid manifest: ${(e as Error).message}`, { cause: e });
  }
  for (const f of ['pieceSize', 'segments', 'shardBytes'] as const) {
    const got = count(o[f], f);
    if (got !== layout[f]) throw bad(`${f} is ${got} but a ${size}-byte file under ${k}+${m} has ${layout[f]}`);
  }
  if (!Array.isArray(o.roots)) throw bad('roots must be an array');
  if (o.roots.length !== layout.n) throw bad(`roots has ${o.roots.length} entries, expected k + m = ${layout.n}`);
  const roots = o.roots.map((r, i) => hex32(r, `roots[${i}]`));
  const key = hex32(o.key, 'key');
  const sha256 = hex32(o.sha256, 'sha256');
  if (typeof o.name !== 'string') throw bad('name must be a string');
  return { version: 1, size, k, m, pieceSize: layout.pieceSize, segments: layout.segments, shardBytes: layout.shardBytes, roots, key, sha256, name: o.name };
}
