/**
 * Retrieving a stored file (`groundwork store get`): the deal on chain says which lease and
 * provider hold each shard, the providers' registrations say where they are, and the manifest
 * (kept by the customer) has the key and the roots.
 *
 * Only shards whose status is `active` are asked (a lost shard's provider is not trusted to
 * still hold it, an ended one's may have deleted it); a provider that cannot be reached or does
 * not hold its shard is marked dead after its first failure, so it costs one failed request per
 * segment already in flight and none after. Each shard is read in runs of pieces (one range
 * request per 8 MiB, the next run asked while the current one arrives), and every piece is
 * verified against its shard root before it is decoded: its root must be the shard's piece root
 * at its index, and the piece roots (fetched once per shard) must hash to the manifest's root.
 * A shard whose ranges cannot be read is read piece by piece, each with its proof (storage/http
 * fetchPiece). So a provider can withhold data but never change it. Any k of the k + m shards
 * rebuild the file: it survives m providers down.
 */
import { toHex, type Bytes } from '../core/bytes.js';
import { InvalidInputError, type GroundworkError } from '../core/errors.js';
import type { Client } from '../client/client.js';
import { getDeal } from '../client/actions/getDeal.js';
import { getProvider } from '../client/actions/getProvider.js';
import type { StorageDeal } from '../client/storageViews.js';
import { decodeFile, THREADS_FROM_PIECE_SIZE, type ByteSink, type DecodeReport, type PieceFetcher } from './decode.js';
import { StorageError } from './errors.js';
import { fetchPiece, fetchPieceRoots, fetchRange, ProviderHttpError } from './http.js';
import { inlinePieceHasher, sharedPieceHasher } from './hashpool.js';
import { manifestLayout, type Manifest } from './layout.js';

export interface GetFileOptions {
  /** Segments fetched and decoded at once (default 4). */
  parallel?: number;
  /** Plaintext bytes written so far, of `total` (the file's size). */
  onProgress?: (done: number, total: number) => void;
  /** Per piece request (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Also recompute the file's SHA-256 and compare it with the manifest's (see decodeFile); default false. */
  verifySha256?: boolean;
}

/** Where a shard was asked for, or why it was not. */
export interface GetShardSource {
  shard: number;
  lease: bigint;
  provider: string;
  /** The provider's registered host; null when not asked. */
  hostUri: string | null;
  /** The shard's status on chain. */
  status: string;
  /** Why it was not asked (not active, provider not registered); null when it was. */
  skipped: string | null;
}

export interface GetFileReturnType extends DecodeReport {
  /** One per shard, in shard order. */
  sources: GetShardSource[];
}

/**
 * InvalidInputError DEAL_NOT_FOUND / MANIFEST_MISMATCH, StorageError NOT_ENOUGH_SHARDS (fewer
 * than k shards can be asked, or fetched for some segment), DECRYPT_FAILED, SHA256_MISMATCH (verifySha256),
 * OUTPUT_CLOSED, and the SDK's errors reading the deal.
 */
export type GetFileErrorType = GroundworkError;

/** Refuses a manifest that does not describe this deal (another file's, or an edited one). */
export function checkManifestAgainstDeal(manifest: Manifest, deal: StorageDeal): void {
  const o = deal.order;
  const diff: string[] = [];
  if (deal.k !== manifest.k || deal.m !== manifest.m) diff.push(`the deal is ${deal.k}+${deal.m}, the manifest ${manifest.k}+${manifest.m}`);
  if (deal.size !== BigInt(manifest.size)) diff.push(`the deal stores ${deal.size} bytes, the manifest describes ${manifest.size}`);
  if (deal.pieceSize !== manifest.pieceSize || deal.segments !== BigInt(manifest.segments)) diff.push('the layouts differ');
  if (diff.length === 0) {
    for (const s of deal.shards) {
      if (toHex(s.root) !== manifest.roots[s.index]) {
        diff.push(`shard ${s.index}'s root on chain is ${toHex(s.root)}, the manifest's ${manifest.roots[s.index] ?? '(none)'}`);
        break;
      }
    }
  }
  if (diff.length) throw new InvalidInputError('MANIFEST_MISMATCH', `the manifest is not deal ${o}'s: ${diff.join('; ')}`);
}

/** Bytes asked per range request when a shard is read in runs of pieces. */
const RUN_BYTES = 8 << 20;

/**
 * One shard read sequentially in runs of `perRun` pieces: a range request per run, the next run
 * requested as soon as a piece of the current one is asked for (read-ahead), pieces handed out
 * as views of their run's buffer. A run is forgotten once all its pieces were taken, or when the
 * reader has moved two runs past it (a piece asked again is fetched again).
 */
export class ShardRuns {
  private readonly runs = new Map<number, Run>();
  /** Runs whose pieces were all handed out, waiting for their segments to be written. */
  private readonly finished: { last: number; buf: Uint8Array }[] = [];

  /**
   * `fetchRun` fills a buffer of `count` pieces from piece `first` (`into` when given). With a
   * `pool`, run buffers come from it and go back to it once every segment using them was
   * written (`recycle`).
   */
  constructor(
    private readonly pieceSize: number,
    private readonly pieces: number,
    private readonly perRun: number,
    private readonly fetchRun: (first: number, count: number, into?: Uint8Array) => Promise<Uint8Array>,
    private readonly pool?: { take(bytes: number): Uint8Array | undefined; give(buf: Uint8Array): void },
  ) {}

  async piece(index: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.pieces) throw new RangeError(`piece ${index} is not one of the shard's ${this.pieces} pieces`);
    const r = Math.floor(index / this.perRun);
    const run = this.run(r) as Run;
    this.run(r + 1);
    try {
      const bytes = await run.bytes;
      const at = (index - r * this.perRun) * this.pieceSize;
      return bytes.subarray(at, at + this.pieceSize);
    } finally {
      if (++run.taken === run.size) {
        this.runs.delete(r);
        if (run.buf !== undefined) this.finished.push({ last: r * this.perRun + run.size - 1, buf: run.buf });
      }
    }
  }

  /** Gives the buffers of finished runs whose pieces all belong to segments before `segment` back to the pool. */
  recycle(segment: number): void {
    while (this.finished.length > 0 && (this.finished[0] as { last: number }).last < segment) this.pool?.give((this.finished.shift() as { buf: Uint8Array }).buf);
  }

  private run(r: number): Run | undefined {
    const first = r * this.perRun;
    if (first >= this.pieces) return undefined;
    let run = this.runs.get(r);
    if (run === undefined) {
      for (const old of this.runs.keys()) if (old < r - 2) this.runs.delete(old);
      const size = Math.min(this.perRun, this.pieces - first);
      const into = this.pool?.take(size * this.pieceSize);
      const made: Run = { bytes: this.fetchRun(first, size, into), taken: 0, size, buf: undefined };
      made.bytes.then(
        (b) => {
          made.buf = b;
        },
        () => {}, // awaited by piece(); a read-ahead nobody asks for must not go unhandled
      );
      run = made;
      this.runs.set(r, run);
    }
    return run;
  }
}

interface Run {
  readonly bytes: Promise<Uint8Array>;
  taken: number;
  readonly size: number;
  /** The pooled buffer the run was read into, once it arrived. */
  buf: Uint8Array | undefined;
}

/** Codes after which a provider is not asked again during this retrieval. */
const DEAD = new Set(['PROVIDER_UNREACHABLE', 'PROVIDER_TIMEOUT', 'SHARD_NOT_FOUND', 'SHARD_CORRUPT', 'BAD_RESPONSE']);

/**
 * Writes the file of deal `dealOrder` (described by `manifest`) to `out`, exactly its bytes in
 * order. Bytes written before an error must be discarded by the caller (write to a temporary
 * file and rename it on success, as the CLI does).
 */
export async function getFile(client: Client, manifest: Manifest, dealOrder: bigint, out: ByteSink, opts: GetFileOptions = {}): Promise<GetFileReturnType> {
  const deal = await getDeal(client, { order: dealOrder });
  if (!deal) throw new InvalidInputError('DEAL_NOT_FOUND', `order ${dealOrder} has no storage deal on the chain at ${client.url}`);
  checkManifestAgainstDeal(manifest, deal);

  const hosts = new Map<string, string | null>();
  const sources: GetShardSource[] = [];
  for (const s of [...deal.shards].sort((a, b) => a.index - b.index)) {
    const base = { shard: s.index, lease: s.lease, provider: s.provider, status: s.status };
    if (s.status !== 'active') {
      sources.push({ ...base, hostUri: null, skipped: `shard ${s.status}` });
      continue;
    }
    if (!hosts.has(s.provider)) hosts.set(s.provider, (await getProvider(client, { address: s.provider }))?.hostUri ?? null);
    const hostUri = hosts.get(s.provider) ?? null;
    sources.push({ ...base, hostUri, skipped: hostUri === null ? 'provider not registered' : null });
  }
  const usable = sources.filter((s) => s.skipped === null).length;
  if (usable < manifest.k) {
    const why = deal.status === 'ended' ? `deal ${dealOrder} ended at height ${deal.endedHeight}: its providers no longer keep the shards` : `only ${usable} of deal ${dealOrder}'s shards can be asked and ${manifest.k} are needed`;
    throw new StorageError('NOT_ENOUGH_SHARDS', `${why} (${sources.map((s) => `shard ${s.shard}: ${s.skipped ?? 'ok'}`).join(', ')})`);
  }

  const dead = new Set<number>();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const fetcher: PieceFetcher = async (j, segment) => {
    const src = sources[j];
    if (!src || src.hostUri === null || dead.has(j)) return null;
    try {
      const r = await fetchPiece(src.hostUri, Buffer.from(manifest.roots[j] as string, 'hex'), segment, {
        pieces: manifest.segments,
        pieceSize: manifest.pieceSize,
        timeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      return r.data;
    } catch (e) {
      if (e instanceof ProviderHttpError && DEAD.has(e.code)) dead.add(j);
      throw e;
    }
  };
  // The fast path: each shard read in runs of pieces, one range request per run. Every piece is
  // still checked before it is decoded: its root (hashed on the hashing threads for big pieces)
  // must be the shard's piece root at its index, and the piece roots are checked against the
  // manifest's shard root when fetched (once per shard). A run that does not check out drops the
  // provider (BAD_RESPONSE); a shard whose ranges fail otherwise (e.g. an agent without the
  // range route) is read piece by piece, each piece with its proof (`fetcher`).
  const noRanges = new Set<number>();
  const perRun = Math.max(1, Math.floor(RUN_BYTES / manifest.pieceSize));
  const hasher = manifest.pieceSize >= THREADS_FROM_PIECE_SIZE ? sharedPieceHasher() : inlinePieceHasher;
  // Run buffers are reused once their segments are written: in this VM a fresh buffer's first
  // touch is a page fault per 4 KiB, the largest part of a get's kernel time.
  const spare: Uint8Array[] = [];
  const runBuffers = {
    take: (bytes: number): Uint8Array | undefined => {
      const i = spare.findIndex((b) => b.length === bytes);
      return i < 0 ? undefined : spare.splice(i, 1)[0];
    },
    give: (buf: Uint8Array): void => {
      if (spare.length < 4 * manifest.k) spare.push(buf);
    },
  };
  const { segmentCapacity } = manifestLayout(manifest);
  const runs = sources.map((src, j) => {
    if (src.hostUri === null) return undefined;
    const host = src.hostUri;
    const root = Buffer.from(manifest.roots[j] as string, 'hex');
    const call = { timeoutMs, ...(opts.signal ? { signal: opts.signal } : {}) };
    let expected: Promise<Bytes[]> | undefined;
    const fetchRun = async (first: number, count: number, into?: Uint8Array): Promise<Uint8Array> => {
      expected ??= fetchPieceRoots(host, root, manifest.segments, call);
      const roots = await expected;
      const bytes = count * manifest.pieceSize;
      // Shared memory when threads hash it (they read it in place).
      const buf = into ?? (hasher === inlinePieceHasher ? Buffer.allocUnsafeSlow(bytes) : Buffer.from(new SharedArrayBuffer(bytes)));
      await fetchRange(host, root, first * manifest.pieceSize, bytes, { ...call, into: buf });
      const got = Buffer.allocUnsafe(32 * count);
      try {
        await hasher.roots(buf, 0, manifest.pieceSize, count, got, 0);
      } finally {
        hasher.release?.(buf);
      }
      for (let i = 0; i < count; i++) {
        if (!got.subarray(32 * i, 32 * i + 32).equals(roots[first + i] as Bytes)) {
          throw new ProviderHttpError('BAD_RESPONSE', `piece ${first + i} of shard ${j} from ${host} does not hash to its piece root: do not trust this provider's copy`, host);
        }
      }
      return buf;
    };
    return new ShardRuns(manifest.pieceSize, manifest.segments, perRun, fetchRun, runBuffers);
  });
  const ranged: PieceFetcher = async (j, segment) => {
    const reader = runs[j];
    if (reader === undefined || dead.has(j)) return null;
    if (noRanges.has(j)) return fetcher(j, segment);
    try {
      return await reader.piece(segment);
    } catch (e) {
      if (e instanceof ProviderHttpError && DEAD.has(e.code)) dead.add(j);
      else noRanges.add(j);
      throw e;
    }
  };
  const report = await decodeFile(manifest, ranged, out, {
    ...(opts.parallel !== undefined ? { parallel: opts.parallel } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    verifySha256: opts.verifySha256 ?? false,
    onProgress: (done) => {
      const written = Math.floor(done / segmentCapacity);
      for (const r of runs) r?.recycle(written);
      opts.onProgress?.(done, manifest.size);
    },
  });
  return { ...report, sources };
}
