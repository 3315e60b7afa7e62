/**
 * The file decoder: fetches, per segment, any k of its k + m pieces, rebuilds missing data
 * pieces with the erasure code, decrypts and authenticates the segment (AES-GCM), and writes
 * the plaintext in order; with `verifySha256`, also checks the file's SHA-256 at the end.
 *
 * Integrity does not rest on that digest: every piece is checked against its shard's root
 * before it is used, and every segment's GCM tag (under the file's own key, its index bound
 * into the nonce) before a byte of it is written; the manifest fixes the size, hence the
 * number of segments. A whole-file digest can only complain after the bytes went out, and it
 * costs about a quarter of a get's CPU, so it is opt-in (a check of the pipeline itself, or a
 * digest to compare with sha256sum).
 *
 * Data pieces are asked for first (no erasure decoding when they all arrive); a shard that
 * fails (null, an error or a piece of the wrong size) is replaced by the next candidate, and
 * shards that have failed before are asked last for the following segments, so a dead
 * provider costs one failed request for each segment already in flight when it first failed
 * and none after. `parallel` segments are fetched ahead of the one being written, which bounds
 * memory to about parallel × (k + m) × pieceSize. Plaintext is written only after its segment's tag checked out, so nothing
 * unauthenticated ever reaches the output.
 */
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { fromHex, type Bytes } from '../core/bytes.js';
import { errorMessage, InvalidInputError } from '../core/errors.js';
import { verifyPiece } from '../core/shardtree.js';
import { GCM_TAG_BYTES, openSegmentInto } from './crypto.js';
import { erasureCoder } from './erasure.js';
import { StorageError } from './errors.js';
import { sharedPieceHasher } from './hashpool.js';
import { manifestLayout, type Manifest } from './layout.js';
import { pieceRootOf } from './piecehash.js';

/**
 * Piece `segment` of shard `shard`, already verified against the shard's root (see
 * verifyFetchedPiece), or null when the shard cannot give it. A rejection counts as null (its
 * message ends up in the error if the segment cannot be decoded).
 */
export type PieceFetcher = (shard: number, segment: number) => Promise<Uint8Array | null>;

/**
 * Where plaintext goes: a Writable (not ended by the decoder) or a function (awaited). A chunk
 * given to a function is valid until its returned promise settles (or it returns): its memory is
 * then reused; copy what you keep.
 */
export type ByteSink = Writable | ((chunk: Uint8Array) => Promise<void> | void);

export interface DecodeOptions {
  /** Segments fetched and decoded at once (default 4, at least 1). */
  readonly parallel?: number;
  /** Called with the plaintext bytes written so far. */
  readonly onProgress?: (bytesDone: number) => void;
  readonly signal?: AbortSignal;
  /** Also hash the plaintext and compare it with the manifest's SHA-256 at the end (SHA256_MISMATCH); default false. */
  readonly verifySha256?: boolean;
}

export interface DecodeReport {
  /** Plaintext bytes written (the file's size). */
  readonly bytes: number;
  /** Segments that needed the erasure code (a data piece was unavailable). */
  readonly repairedSegments: number;
  /** Shards that failed to give a piece at least once, ascending. */
  readonly failedShards: number[];
  /** Whether the file's SHA-256 was recomputed and matched the manifest's (verifySha256). */
  readonly sha256Checked: boolean;
}

const DEFAULT_PARALLEL = 4;

/**
 * Whether `piece` is piece `segment` of shard `shard` of the file: its root (over its leaves'
 * hashes) proves against the manifest's shard root along `proof` (core/shardtree pieceProof).
 */
export function verifyFetchedPiece(manifest: Manifest, shard: number, segment: number, piece: Uint8Array, proof: readonly Bytes[]): boolean {
  const root = manifest.roots[shard];
  if (root === undefined || !Number.isInteger(shard) || piece.length !== manifest.pieceSize) return false;
  if (!Number.isInteger(segment) || segment < 0 || segment >= manifest.segments) return false;
  return verifyPiece(pieceRootOf(piece), segment, manifest.segments, proof, fromHex(root, 'shard root'));
}

export interface VerifiedFetcherOptions {
  /**
   * Where fetched pieces are hashed: 'auto' (default) on the process's hashing threads for
   * pieces of 64 KiB and more (so verifying overlaps decrypting), else on the calling thread;
   * 'inline' always on the calling thread.
   */
  readonly hasher?: 'auto' | 'inline';
}

/** Pieces below this size are verified inline: a thread hand-off costs more than hashing them. */
export const THREADS_FROM_PIECE_SIZE = 64 * 1024;
/** Shared scratch buffers kept per piece size for threaded verification (beyond this, released). */
const SCRATCH_KEPT = 16;
const scratch = new Map<number, Buffer[]>();

async function threadedPieceRoot(piece: Uint8Array): Promise<Bytes> {
  const pool = sharedPieceHasher();
  const spare = scratch.get(piece.length) ?? [];
  scratch.set(piece.length, spare);
  // The threads read shared memory only: the piece is copied into a reused shared buffer.
  const buf = spare.pop() ?? Buffer.from(new SharedArrayBuffer(piece.length));
  buf.set(piece);
  const root = Buffer.allocUnsafe(32);
  try {
    await pool.roots(buf, 0, piece.length, 1, root, 0);
  } finally {
    if (spare.length < SCRATCH_KEPT) spare.push(buf);
    else pool.release(buf);
  }
  return root;
}

/**
 * A PieceFetcher over a source that returns pieces with their proofs (e.g. a provider's GET
 * piece answer): a piece that does not verify is treated as unavailable.
 */
export function verifiedFetcher(
  manifest: Manifest,
  fetchWithProof: (shard: number, segment: number) => Promise<{ piece: Uint8Array; proof: readonly Bytes[] } | null>,
  opts: VerifiedFetcherOptions = {},
): PieceFetcher {
  const threaded = (opts.hasher ?? 'auto') === 'auto' && manifest.pieceSize >= THREADS_FROM_PIECE_SIZE;
  return async (shard, segment) => {
    const got = await fetchWithProof(shard, segment);
    if (got === null) return null;
    if (!threaded) return verifyFetchedPiece(manifest, shard, segment, got.piece, got.proof) ? got.piece : null;
    const root = manifest.roots[shard];
    if (root === undefined || got.piece.length !== manifest.pieceSize || !Number.isInteger(segment) || segment < 0 || segment >= manifest.segments) return null;
    const ok = verifyPiece(await threadedPieceRoot(got.piece), segment, manifest.segments, got.proof, fromHex(root, 'shard root'));
    return ok ? got.piece : null;
  };
}

function writerFor(out: ByteSink): { write(chunk: Uint8Array): Promise<void>; done(): void } {
  if (typeof out === 'function') return { write: async (c) => out(c), done: () => {} };
  // An 'error' with no listener would crash the process: hold it and fail the decode instead.
  let error: unknown;
  const onError = (e: unknown): void => {
    error ??= e;
  };
  out.on('error', onError);
  return {
    async write(chunk) {
      if (error !== undefined) throw error;
      if (out.destroyed || out.writableEnded) throw new StorageError('OUTPUT_CLOSED', 'the output closed before the file was written');
      if (out.write(chunk)) return;
      await new Promise<void>((resolve, reject) => {
        const settle = (e?: unknown): void => {
          out.off('drain', drained);
          out.off('error', failed);
          out.off('close', closed);
          if (e === undefined) resolve();
          else reject(e);
        };
        const drained = (): void => settle();
        const failed = (e: unknown): void => settle(e);
        const closed = (): void => settle(error ?? new StorageError('OUTPUT_CLOSED', 'the output closed before the file was written'));
        out.on('drain', drained);
        out.on('error', failed);
        out.on('close', closed);
      });
    },
    done: () => {
      out.off('error', onError);
    },
  };
}

/**
 * Fetches one segment's pieces from the shards in `order` — data shards first, shards that
 * failed before last — over `lanes` concurrent lanes, each going on to the next candidate until
 * it holds one piece of `pieceSize` bytes (so `lanes` pieces when enough shards answer). A
 * candidate that fails (null, a throw, a wrong size) counts in `failures` and in `problems`.
 * Shared by decoding and repair.
 */
export async function fetchAnyPieces(o: {
  order: readonly number[];
  lanes: number;
  pieceSize: number;
  failures: number[];
  stopped: () => boolean;
  fetch: (shard: number) => Promise<Uint8Array | null>;
}): Promise<{ pieces: (Uint8Array | null)[]; have: number; problems: string[] }> {
  const order = [...o.order].sort((a, b) => Number(o.failures[a]! > 0) - Number(o.failures[b]! > 0) || a - b);
  const pieces = new Array<Uint8Array | null>(o.failures.length).fill(null);
  const problems: string[] = [];
  let have = 0;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < order.length && !o.stopped()) {
      const j = order[next++] as number;
      let piece: Uint8Array | null = null;
      try {
        piece = await o.fetch(j);
        if (piece === null) problems.push(`shard ${j}: unavailable`);
        else if (piece.length !== o.pieceSize) {
          problems.push(`shard ${j}: a piece of ${piece.length} bytes, not ${o.pieceSize}`);
          piece = null;
        }
      } catch (e) {
        problems.push(`shard ${j}: ${errorMessage(e)}`);
      }
      if (piece !== null) {
        pieces[j] = piece;
        have++;
        return;
      }
      o.failures[j]!++;
    }
  };
  await Promise.all(Array.from({ length: o.lanes }, lane));
  return { pieces, have, problems };
}

/**
 * Runs produce(0 … count − 1) with up to `parallel` in flight and hands each result to
 * `consume` in order (awaited before the next). On a failure (or an abort of `signal`) it calls
 * `onStop` so producers still running can give up, waits for them, and rethrows. Decoding and
 * repair both read ahead this way.
 */
export async function inOrderAhead<T>(
  count: number,
  parallel: number,
  produce: (i: number) => Promise<T>,
  consume: (value: T, i: number) => Promise<void>,
  o: { signal?: AbortSignal; onStop: () => void },
): Promise<void> {
  const ahead: Promise<T>[] = [];
  const start = (i: number): void => {
    const p = produce(i);
    p.catch(() => {}); // awaited in order below; handled now in case it fails early
    ahead.push(p);
  };
  try {
    for (let i = 0; i < Math.min(parallel, count); i++) start(i);
    for (let i = 0; i < count; i++) {
      if (o.signal?.aborted) throw o.signal.reason;
      const value = await (ahead.shift() as Promise<T>);
      if (i + parallel < count) start(i + parallel);
      await consume(value, i);
    }
  } catch (e) {
    o.onStop();
    await Promise.allSettled(ahead);
    throw e;
  }
}

/**
 * Decodes the file `manifest` describes from pieces `fetchPiece` gives, writing exactly its
 * `size` bytes to `out` in order. Throws StorageError NOT_ENOUGH_SHARDS (fewer than k pieces of
 * a segment), DECRYPT_FAILED (wrong key or tampered data) or, with verifySha256, SHA256_MISMATCH; bytes already
 * written before an error must then be discarded by the caller.
 */
export async function decodeFile(manifest: Manifest, fetchPiece: PieceFetcher, out: ByteSink, opts: DecodeOptions = {}): Promise<DecodeReport> {
  const layout = manifestLayout(manifest);
  const { k, n, pieceSize: P, segments, size } = layout;
  if (manifest.roots.length !== n) throw new InvalidInputError('INVALID_MANIFEST', `invalid manifest: ${manifest.roots.length} roots for ${n} shards`);
  const key = fromHex(manifest.key, 'file key');
  const parallel = opts.parallel ?? DEFAULT_PARALLEL;
  if (!Number.isInteger(parallel) || parallel < 1) throw new InvalidInputError('INVALID_PARALLEL', `parallel must be a positive integer, not ${parallel}`);
  const coder = erasureCoder(k, layout.m);
  const signal = opts.signal;
  const failures = new Array<number>(n).fill(0);
  let repaired = 0;
  let stopped = false;

  const segmentLength = (s: number): number => Math.min(layout.segmentCapacity, size - s * layout.segmentCapacity);

  /** k verified pieces of segment `s`, indexed by shard (null for those not fetched). */
  async function fetchSegment(s: number): Promise<(Uint8Array | null)[]> {
    const order = Array.from({ length: n }, (_, j) => j);
    const { pieces, have, problems } = await fetchAnyPieces({ order, lanes: k, pieceSize: P, failures, stopped: () => stopped, fetch: (j) => fetchPiece(j, s) });
    if (have < k && !stopped) {
      throw new StorageError('NOT_ENOUGH_SHARDS', `segment ${s}: only ${have} of the ${k} pieces needed could be fetched`, { details: problems.join('; ') });
    }
    return pieces;
  }

  // Plaintext buffers, one per segment in flight. Reused once written when the sink is a
  // function (a chunk it is given is valid until it settles): in this VM a fresh buffer's first
  // touch costs a page fault per 4 KiB. A stream may keep what it was given: it gets fresh ones.
  const reuse = typeof out === 'function';
  const spare: Buffer[] = [];
  const takePlain = (): Buffer => spare.pop() ?? Buffer.allocUnsafeSlow(layout.segmentCapacity);
  const givePlain = (b: Buffer): void => {
    if (reuse && b.length === layout.segmentCapacity && spare.length <= parallel) spare.push(b);
  };

  /** The plaintext of segment `s`, authenticated: the first `len` bytes of `buf`. */
  async function decodeSegment(s: number): Promise<{ buf: Buffer; len: number }> {
    const got = await fetchSegment(s);
    if (stopped) return { buf: Buffer.alloc(0), len: 0 };
    let data: Uint8Array[];
    let missing = 0;
    for (let j = 0; j < k; j++) if (got[j] === null) missing |= 1 << j;
    if (missing === 0) data = got.slice(0, k) as Uint8Array[];
    else {
      repaired++;
      const stripe = Buffer.allocUnsafe(n * P);
      let present = 0;
      got.forEach((p, j) => {
        if (p !== null) {
          stripe.set(p, j * P);
          present |= 1 << j;
        }
      });
      await coder.reconstruct(stripe, P, present, missing);
      data = Array.from({ length: k }, (_, j) => stripe.subarray(j * P, (j + 1) * P));
    }
    const len = segmentLength(s);
    // The tag follows the ciphertext and may straddle two pieces.
    const tag = Buffer.allocUnsafe(GCM_TAG_BYTES);
    for (let i = 0; i < GCM_TAG_BYTES; i++) {
      const at = len + i;
      tag[i] = (data[Math.floor(at / P)] as Uint8Array)[at % P] as number;
    }
    const parts: Uint8Array[] = [];
    for (let j = 0; j * P < len; j++) parts.push((data[j] as Uint8Array).subarray(0, Math.min(P, len - j * P)));
    const buf = takePlain();
    try {
      openSegmentInto(key, s, parts, buf, tag);
    } catch (e) {
      givePlain(buf);
      throw e;
    }
    return { buf, len };
  }

  const writer = writerFor(out);
  const fileHash = opts.verifySha256 ? createHash('sha256') : undefined;
  let written = 0;
  try {
    await inOrderAhead(
      segments,
      parallel,
      decodeSegment,
      async ({ buf, len }) => {
        if (len > 0) {
          const plain = buf.subarray(0, len);
          fileHash?.update(plain);
          await writer.write(plain);
          written += len;
        }
        givePlain(buf);
        opts.onProgress?.(written);
      },
      { ...(signal ? { signal } : {}), onStop: () => (stopped = true) },
    );
  } finally {
    writer.done();
  }
  if (written !== size) throw new StorageError('SIZE_MISMATCH', `decoded ${written} bytes, the manifest says ${size}`);
  if (fileHash) {
    const digest = fileHash.digest('hex');
    if (digest !== manifest.sha256.toLowerCase()) throw new StorageError('SHA256_MISMATCH', `the decoded file's SHA-256 ${digest} is not the manifest's ${manifest.sha256}`);
  }
  const failedShards = failures.flatMap((f, j) => (f > 0 ? [j] : []));
  return { bytes: written, repairedSegments: repaired, failedShards, sha256Checked: fileHash !== undefined };
}
