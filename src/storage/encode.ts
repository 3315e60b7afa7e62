/**
 * The streaming file encoder: reads a file once, in order, and turns it into k + m shards (the
 * storage contract) while computing everything the manifest needs.
 *
 * Per segment: the plaintext is hashed into the file's SHA-256 and encrypted straight into the
 * segment's stripe as it arrives (no plaintext copy), the tag and zero padding complete the k
 * data pieces, the erasure code adds m parity pieces on libuv's pool, the pieces' roots are
 * hashed on worker threads (storage/hashpool), and each piece is handed to the sink for its
 * shard. The piece roots are folded into each shard's root as segments finish (O(log segments)
 * hashes kept per shard). At most `depth` stripes exist at once, each reused once its pieces are
 * hashed and written, so memory is depth × (k + m) × pieceSize whatever the file's size, and a
 * slow sink slows reading (backpressure) instead of filling memory.
 */
import { createHash } from 'node:crypto';
import { fromHex, toHex, type Bytes } from '../core/bytes.js';
import { InvalidInputError, InvariantError } from '../core/errors.js';
import { newFileKey, sealSegmentInPlace } from './crypto.js';
import { erasureCoder } from './erasure.js';
import { StorageError } from './errors.js';
import { inlinePieceHasher, sharedPieceHasher, ThreadPieceHasher, type PieceHasher } from './hashpool.js';
import { ShardRootBuilder } from './piecehash.js';
import { DEFAULT_DATA_SHARDS, DEFAULT_PARITY_SHARDS, fileLayout, SEGMENT_OVERHEAD, type FileLayout, type Manifest } from './layout.js';

/**
 * Where the pieces go. write(j, piece) is called for shard j's pieces in segment order, one at
 * a time per shard (the next only after the previous one's promise resolved); shards are
 * written concurrently. `piece` is a view of a buffer the encoder reuses once the promise
 * resolves: resolve only when done with the bytes (e.g. from a stream write's callback, not
 * merely because the stream accepts more), or copy them. When threads hash, that buffer is a
 * SharedArrayBuffer: node:net, node:http and node:fs take such views as they are; an API that
 * refuses shared memory (some WHATWG stream and Blob paths) needs a copy.
 */
export interface ShardSink {
  write(shard: number, piece: Uint8Array): Promise<void>;
}

export interface EncodeOptions {
  /** Data shards (default 4). */
  readonly k?: number;
  /** Parity shards (default 2). */
  readonly m?: number;
  /** The 32-byte file key; a fresh random one if absent. Re-encoding under the same key gives the same shards. */
  readonly key?: Bytes;
  /** Recorded in the manifest (default ''). */
  readonly name?: string;
  /** Called with the plaintext bytes whose pieces have all been hashed and written. */
  readonly onProgress?: (bytesDone: number) => void;
  /** Stripes in flight at once (default 4, at least 1). */
  readonly depth?: number;
  /**
   * Where piece roots are hashed: 'auto' (default) uses the process's thread pool for files
   * over one MiB per shard and the calling thread for smaller ones; 'inline' always hashes on
   * the calling thread; a PieceHasher is used as given.
   */
  readonly hasher?: 'auto' | 'inline' | PieceHasher;
  readonly signal?: AbortSignal;
}

export type EncodeInput = Uint8Array | AsyncIterable<Uint8Array>;

const DEFAULT_DEPTH = 4;
/** Below this many bytes per shard, starting hashing threads costs more than it saves. */
const THREADS_FROM_SHARD_BYTES = 1 << 20;

function chooseHasher(opt: EncodeOptions['hasher'], layout: FileLayout): PieceHasher {
  if (opt === undefined || opt === 'auto') return layout.shardBytes > THREADS_FROM_SHARD_BYTES ? sharedPieceHasher() : inlinePieceHasher;
  if (opt === 'inline') return inlinePieceHasher;
  return opt;
}

async function* chunksOf(input: EncodeInput): AsyncIterable<Uint8Array> {
  if (input instanceof Uint8Array) yield input;
  else yield* input;
}

/**
 * Encodes `size` bytes read once from `input` into shards written to `sink` (none: only the
 * manifest is computed, e.g. a first pass for the roots) and returns the manifest. Throws
 * StorageError SIZE_MISMATCH if the input ends early or runs past `size`, and whatever the
 * sink throws (then no more pieces are written).
 */
export async function encodeFile(input: EncodeInput, size: number, opts: EncodeOptions = {}, sink?: ShardSink): Promise<Manifest> {
  const layout = fileLayout(size, opts.k ?? DEFAULT_DATA_SHARDS, opts.m ?? DEFAULT_PARITY_SHARDS);
  const key = opts.key ?? newFileKey();
  const { roots, sha256 } = await encodeStripes(input, layout, key, opts, sink, true);
  return {
    version: 1,
    size,
    k: layout.k,
    m: layout.m,
    pieceSize: layout.pieceSize,
    segments: layout.segments,
    shardBytes: layout.shardBytes,
    roots,
    key: toHex(key),
    sha256,
    name: opts.name ?? '',
  };
}

export type WriteShardsOptions = Pick<EncodeOptions, 'onProgress' | 'depth' | 'signal'>;

/**
 * Writes the shards of a file whose manifest is already known (the upload pass of a put whose
 * first pass computed the roots, or a re-upload): the same encoding under the manifest's key and
 * layout, without hashing anything, so it costs about half an encodeFile. The input must be the
 * file's bytes: nothing here checks them (a provider recomputes the root of what it receives and
 * refuses a shard that differs, and any changed byte changes at least one data shard and every
 * parity shard).
 */
export async function writeShards(input: EncodeInput, manifest: Manifest, sink: ShardSink, opts: WriteShardsOptions = {}): Promise<void> {
  const layout = fileLayout(manifest.size, manifest.k, manifest.m);
  await encodeStripes(input, layout, fromHex(manifest.key, 'file key'), { ...opts, hasher: 'inline' }, sink, false);
}

/** The encoding itself; with `hashing` false no root or file hash is computed (both come back empty). */
async function encodeStripes(input: EncodeInput, layout: FileLayout, key: Bytes, opts: EncodeOptions, sink: ShardSink | undefined, hashing: boolean): Promise<{ roots: string[]; sha256: string }> {
  const { k, m, n, pieceSize: P, segments, size } = layout;
  const depth = opts.depth ?? DEFAULT_DEPTH;
  if (!Number.isInteger(depth) || depth < 1) throw new InvalidInputError('INVALID_DEPTH', `depth must be a positive integer, not ${depth}`);
  const hasher = chooseHasher(opts.hasher, layout);
  // Stripes in shared memory when threads may hash them.
  const threaded = hashing && hasher instanceof ThreadPieceHasher;
  const coder = erasureCoder(k, m);
  const signal = opts.signal;

  const fileHash = createHash('sha256');
  // Shard roots are folded from piece roots in segment order (stripes finish in any order:
  // at most `depth` segments' roots wait here), so memory does not grow with the file.
  const builders = Array.from({ length: n }, () => new ShardRootBuilder());
  const finished = new Map<number, Buffer>();
  const fold = (s: number, pieceRoots: Buffer): void => {
    finished.set(s, pieceRoots);
    for (let next = finished.get(builders[0]!.size); next !== undefined; next = finished.get(builders[0]!.size)) {
      finished.delete(builders[0]!.size);
      for (let j = 0; j < n; j++) builders[j]!.push(next.subarray(32 * j, 32 * (j + 1)));
    }
  };

  // Stripes: allocated as needed up to `depth`, then reused. Shared memory when threads hash.
  const free: Buffer[] = [];
  const stripes: Buffer[] = [];
  let wake: (() => void) | undefined;
  let failure: unknown;
  const inFlight = new Set<Promise<void>>();
  // Per shard, the promise of its last write: the next one is chained after it.
  const shardTail: Promise<void>[] = Array.from({ length: n }, () => Promise.resolve());
  let bytesDone = 0;

  const fail = (e: unknown): void => {
    failure ??= e;
    wake?.();
  };
  const check = (): void => {
    if (failure !== undefined) throw failure;
    if (signal?.aborted) throw signal.reason;
  };

  /** Waits for `cond`, hashing queued pieces meanwhile instead of idling. */
  async function until(cond: () => boolean): Promise<void> {
    while (!cond() && failure === undefined) {
      if (hasher.helpOne()) {
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  }

  async function acquire(): Promise<Buffer> {
    if (free.length === 0 && stripes.length < depth) {
      const stripe = threaded ? Buffer.from(new SharedArrayBuffer(n * P)) : Buffer.allocUnsafeSlow(n * P);
      stripes.push(stripe);
      return stripe;
    }
    await until(() => free.length > 0);
    check();
    return free.pop() as Buffer;
  }

  async function finishStripe(s: number, stripe: Buffer, plainBytes: number): Promise<void> {
    const roots = Buffer.allocUnsafe(n * 32);
    const work: Promise<void>[] = [];
    const hashPieces = (from: number, count: number): void => {
      if (hashing) track(hasher.roots(stripe, from * P, P, count, roots, from * 32));
    };
    // Every promise is awaited below, but one may reject before then: mark it handled now.
    const track = (p: Promise<void>): void => {
      p.catch(() => {});
      work.push(p);
    };
    // Parity is computed on libuv's pool while the data pieces are hashed and written.
    const parity = coder.encode(stripe, P);
    track(parity);
    // Every write of this stripe is queued behind its shard's previous one now, in segment
    // order; a parity write then also waits for the parity (stripes' parity may finish in any
    // order, so queueing parity writes only once it is ready would reorder the shard).
    for (let j = 0; j < n && sink !== undefined; j++) {
      const piece = stripe.subarray(j * P, (j + 1) * P);
      const next = (shardTail[j] as Promise<void>).then(async () => {
        if (j >= k) await parity;
        if (failure === undefined) await sink.write(j, piece);
      });
      shardTail[j] = next;
      track(next);
    }
    hashPieces(0, k);
    try {
      if (m > 0) {
        await parity;
        hashPieces(k, m);
      }
      await Promise.all(work);
    } catch (e) {
      // No piece of this stripe may still be in use once the failure is reported.
      await Promise.allSettled(work);
      throw e;
    }
    if (hashing) fold(s, roots);
    bytesDone += plainBytes;
    opts.onProgress?.(bytesDone);
  }

  function launch(s: number, stripe: Buffer, plainBytes: number): void {
    const task = finishStripe(s, stripe, plainBytes).then(
      () => {
        inFlight.delete(task);
        free.push(stripe);
        wake?.();
      },
      (e: unknown) => {
        inFlight.delete(task);
        fail(e);
      },
    );
    inFlight.add(task);
  }

  // The segment being filled.
  let s = 0;
  let stripe: Buffer | undefined;
  let plain = 0; // plaintext bytes taken into segment s (sealed in place once complete)
  const segmentLength = (i: number): number => Math.min(layout.segmentCapacity, size - i * layout.segmentCapacity);

  async function begin(): Promise<void> {
    stripe = await acquire();
    plain = 0;
  }

  function seal(): void {
    const st = stripe as Buffer;
    sealSegmentInPlace(key, s, st.subarray(0, plain), st.subarray(plain, plain + SEGMENT_OVERHEAD));
    st.fill(0, plain + SEGMENT_OVERHEAD, k * P);
    launch(s, st, plain);
    stripe = undefined;
    s++;
  }

  try {
    for await (const chunk of chunksOf(input)) {
      check();
      let off = 0;
      while (off < chunk.length) {
        if (s >= segments) throw new StorageError('SIZE_MISMATCH', `the input holds more than the ${size} bytes announced`);
        if (stripe === undefined) {
          await begin();
          check();
        }
        const take = Math.min(segmentLength(s) - plain, chunk.length - off);
        const part = chunk.subarray(off, off + take);
        if (hashing) fileHash.update(part);
        // Buffer#copy, not set(): V8's set() into shared memory is ~25% slower.
        Buffer.from(part.buffer, part.byteOffset, part.byteLength).copy(stripe as Buffer, plain);
        plain += take;
        off += take;
        if (plain === segmentLength(s)) {
          seal();
          // Let finished parity and hashing jobs be picked up: an in-memory or buffered input
          // would otherwise keep this loop in microtasks for many segments.
          await new Promise<void>((r) => setImmediate(r));
        }
      }
    }
    check();
    if (s < segments) {
      // Only an empty file has a segment with no plaintext; anything else is missing input.
      if (size > 0) throw new StorageError('SIZE_MISMATCH', `the input ended after ${s * layout.segmentCapacity + plain} of the ${size} bytes announced`);
      await begin();
      seal();
    }
    await until(() => inFlight.size === 0);
    check();
  } catch (e) {
    fail(e);
    // Let pieces already handed out finish (or fail) before reporting: no write runs after return.
    await Promise.allSettled([...inFlight]);
    throw failure;
  } finally {
    for (const st of stripes) hasher.release?.(st);
  }

  if (!hashing) return { roots: [], sha256: '' };
  if (builders[0]!.size !== segments) throw new InvariantError(`folded ${builders[0]!.size} of ${segments} segments`);
  return { roots: builders.map((b) => toHex(b.root())), sha256: fileHash.digest('hex') };
}
