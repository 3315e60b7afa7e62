/**
 * The provider's shard store: shards on disk, content-addressed by their root (core/shardtree).
 *
 *   <dir>/shards/<root hex>/data        the shard's bytes
 *   <dir>/shards/<root hex>/leaves      every leaf hash, 32 bytes each, in order
 *   <dir>/shards/<root hex>/meta.json   { root, bytes, pieceSize, leases, createdAt }
 *   <dir>/tmp/                          uploads in progress, shards being deleted
 *
 * An upload is written to its own directory under tmp/ while its leaf hashes are computed from
 * the stream, fsynced, and renamed into shards/ only once its root matched: a crash leaves at
 * most a tmp/ directory (removed on the next open), never half a shard under shards/. The store
 * never holds a shard in memory: the body goes to disk chunk by chunk, leaf hashes to the leaves
 * file in batches; only the piece roots (32 bytes per piece) stay in memory.
 *
 * Capacity counts shard data bytes (the leaves file adds 1/128 on top). An upload reserves its
 * size before it reads a byte, synchronously, so concurrent uploads can never together pass the
 * capacity; the reservation is released when the upload is stored or abandoned. An upload of a
 * root the store already holds writes nothing: it hashes the body, and on a match adds the lease
 * to the stored shard.
 *
 * Garbage collection is driven by the caller, who knows which leases are active (the agent, from
 * the chain): a shard none of whose leases is active is marked, and deleted once it has stayed
 * so for the grace period. Marks live in memory: a restart restarts the grace period, erring on
 * the side of keeping data.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { equals, fromHex, toHex, type Bytes } from '../../core/bytes.js';
import { GroundworkError, type ErrorOptions } from '../../core/errors.js';
import { isPieceSize, LEAF_SIZE, leafHash, leafProof, leavesPerPiece, MAX_PIECE_SIZE, pieceProof, pieceRoot, shardRoot } from '../../core/shardtree.js';
import { foldSubtree, leafHashesInto } from '../../storage/piecehash.js';
import { alignedBuffer, directSpan, DoubleBuffer, isAlignedBuffer, openData, writeAllAt } from '../../core/directio.js';

const HASH = 32;
const ROOT_RE = /^[0-9a-f]{64}$/;
/** Upload bytes hashed and written per batch: 1 MiB, a whole number of pieces of every size. */
const BATCH = MAX_PIECE_SIZE;
/** Upload batch buffers a store keeps for reuse (two per upload in flight). */
const MAX_BATCH_BUFFERS = 16;
/** An upload's data is synced in the background every this many bytes (when the store syncs). */
const SYNC_EVERY = 32 << 20;
/** The most bytes one range read returns (16 MiB). */
export const MAX_RANGE = 16 << 20;
/** Shards whose piece roots are kept in memory (32 bytes per piece: 32 KiB per GiB at 1 MiB pieces). */
const PIECE_ROOTS_CACHE = 64;

export type ShardStoreErrorCode =
  | 'INSUFFICIENT_CAPACITY'
  | 'INVALID_SIZE'
  | 'SIZE_MISMATCH'
  | 'ROOT_MISMATCH'
  | 'SHARD_NOT_FOUND'
  | 'PIECE_NOT_FOUND'
  | 'LEAF_NOT_FOUND'
  | 'SHARD_CORRUPT'
  | 'UPLOAD_CLOSED'
  | 'RANGE_NOT_SATISFIABLE';

export class ShardStoreError extends GroundworkError {
  override name = 'ShardStoreError';
  declare readonly code: ShardStoreErrorCode;
  constructor(code: ShardStoreErrorCode, message: string, opts: ErrorOptions = {}) {
    super(code, message, opts);
  }
}

/** meta.json of a stored shard. */
export interface ShardMeta {
  /** Hex, lowercase. */
  root: string;
  bytes: number;
  pieceSize: number;
  /** Lease ids (decimal) the shard was uploaded for. */
  leases: string[];
  /** Unix ms. */
  createdAt: number;
}

export interface ShardStoreOptions {
  dir: string;
  capacityBytes: number;
  /** Skip fsync (tests only): a process crash still loses nothing, a power cut may. */
  noSync?: boolean;
  /**
   * Keep shard data in the page cache (ordinary buffered I/O) instead of writing and reading it
   * direct (core/directio.ts; the default where the file system allows it).
   */
  buffered?: boolean;
  now?: () => number;
}

export interface OpenProblem {
  path: string;
  reason: string;
}

export interface GcOptions {
  /** Whether a lease (decimal id) is active; a shard is kept while any of its leases is. */
  isActive(lease: string): boolean;
  graceMs: number;
  /** Unix ms; default the store's clock. */
  now?: number;
}

export interface GcResult {
  /** Roots deleted now. */
  deleted: string[];
  freedBytes: number;
  /** Shards without an active lease still within their grace period. */
  waiting: number;
}

export interface PieceRead {
  data: Bytes;
  /** Path from the piece's root to the shard root (core/shardtree pieceProof). */
  proof: Bytes[];
  pieces: number;
}

export interface LeafProof {
  data: Bytes;
  /** Path from the leaf to the shard root (core/shardtree leafProof). */
  proof: Bytes[];
  leafCount: number;
}

export interface UploadParams {
  root: Bytes;
  bytes: number;
  pieceSize: number;
  /** The lease (decimal id) the shard is stored for. */
  lease: string;
}

const rootKey = (root: Bytes | string): string => (typeof root === 'string' ? root.toLowerCase() : toHex(root));

/** Reads exactly `length` bytes at `position` (a short file is corruption). */
async function readExactly(fh: FileHandle, length: number, position: number, what: string, into?: Buffer): Promise<Buffer> {
  const buf = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
  let n = 0;
  while (n < length) {
    const { bytesRead } = await fh.read(buf, n, length - n, position + n);
    if (bytesRead === 0) throw new ShardStoreError('SHARD_CORRUPT', `${what} ends at byte ${position + n}, ${length - n} bytes short`);
    n += bytesRead;
  }
  return buf;
}

/** Writes a file through a temporary name and a rename (a reader sees the old or the new file, never half of one). */
async function writeFileAtomic(path: string, text: string, sync: boolean): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

async function syncDir(path: string): Promise<void> {
  try {
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Not every platform can fsync a directory; the rename itself is atomic regardless.
  }
}

function parseMeta(text: string, name: string): ShardMeta {
  const m = JSON.parse(text) as Partial<ShardMeta>;
  const ok =
    m.root === name &&
    Number.isSafeInteger(m.bytes) &&
    (m.bytes as number) > 0 &&
    isPieceSize(m.pieceSize as number) &&
    (m.bytes as number) % (m.pieceSize as number) === 0 &&
    Array.isArray(m.leases) &&
    m.leases.every((l) => typeof l === 'string' && /^[0-9]{1,20}$/.test(l)) &&
    typeof m.createdAt === 'number';
  if (!ok) throw new ShardStoreError('SHARD_CORRUPT', 'meta.json does not describe this shard');
  return { root: name, bytes: m.bytes as number, pieceSize: m.pieceSize as number, leases: m.leases as string[], createdAt: m.createdAt as number };
}

export class ShardStore {
  readonly dir: string;
  readonly capacityBytes: number;
  /** Shard directories found unusable by open() (left in place for the operator to look at). */
  readonly problems: OpenProblem[] = [];
  private readonly shards = new Map<string, ShardMeta>();
  private readonly pieceRootsCache = new Map<string, Bytes[]>();
  private readonly inactiveSince = new Map<string, number>();
  /** Roots with an upload in flight that will add a lease to the stored shard (GC keeps them). */
  private readonly pinned = new Map<string, number>();
  private used = 0;
  private reserved = 0;
  private serial: Promise<unknown> = Promise.resolve();
  /** @internal Whether writes are fsynced (off in tests only). */
  readonly sync: boolean;
  /** Whether shard data is written and read direct where the file system allows it. */
  readonly direct: boolean;
  /** Upload batch buffers (aligned for direct writes) kept for the next upload. */
  private readonly batchBuffers: Buffer[] = [];
  private readonly now: () => number;

  private constructor(opts: ShardStoreOptions) {
    this.dir = opts.dir;
    this.capacityBytes = opts.capacityBytes;
    this.sync = opts.noSync !== true;
    this.direct = opts.buffered !== true;
    this.now = opts.now ?? Date.now;
  }

  /** Opens (creating) the store: drops what tmp/ holds, lists the shards. */
  static async open(opts: ShardStoreOptions): Promise<ShardStore> {
    if (!Number.isSafeInteger(opts.capacityBytes) || opts.capacityBytes < 0) throw new ShardStoreError('INVALID_SIZE', `capacity ${opts.capacityBytes} is not a non-negative integer`);
    const s = new ShardStore(opts);
    await rm(s.tmpDir, { recursive: true, force: true });
    await mkdir(s.tmpDir, { recursive: true, mode: 0o700 });
    await mkdir(s.shardsDir, { recursive: true, mode: 0o700 });
    for (const name of (await readdir(s.shardsDir)).sort()) {
      const path = join(s.shardsDir, name);
      if (!ROOT_RE.test(name)) {
        s.problems.push({ path, reason: 'not a shard directory (the name is not a 64-digit lowercase hex root)' });
        continue;
      }
      try {
        const meta = parseMeta(await readFile(join(path, 'meta.json'), 'utf8'), name);
        const [data, leaves] = await Promise.all([stat(join(path, 'data')), stat(join(path, 'leaves'))]);
        if (data.size !== meta.bytes) throw new ShardStoreError('SHARD_CORRUPT', `data is ${data.size} bytes, meta.json says ${meta.bytes}`);
        if (leaves.size !== (meta.bytes / LEAF_SIZE) * HASH) throw new ShardStoreError('SHARD_CORRUPT', `leaves is ${leaves.size} bytes, ${(meta.bytes / LEAF_SIZE) * HASH} expected`);
        s.shards.set(name, meta);
        s.used += meta.bytes;
      } catch (e) {
        s.problems.push({ path, reason: e instanceof Error ? e.message : String(e) });
      }
    }
    return s;
  }

  private get shardsDir(): string {
    return join(this.dir, 'shards');
  }

  private get tmpDir(): string {
    return join(this.dir, 'tmp');
  }

  private shardDir(root: string): string {
    return join(this.shardsDir, root);
  }

  /** Bytes of the stored shards. */
  get usedBytes(): number {
    return this.used;
  }

  /** Bytes promised to uploads in flight. */
  get reservedBytes(): number {
    return this.reserved;
  }

  get freeBytes(): number {
    return Math.max(0, this.capacityBytes - this.used - this.reserved);
  }

  get shardCount(): number {
    return this.shards.size;
  }

  /** The stored shards, by root. */
  list(): ShardMeta[] {
    return [...this.shards.values()].map((m) => ({ ...m, leases: [...m.leases] }));
  }

  get(root: Bytes | string): ShardMeta | undefined {
    const m = this.shards.get(rootKey(root));
    return m ? { ...m, leases: [...m.leases] } : undefined;
  }

  has(root: Bytes | string): boolean {
    return this.shards.has(rootKey(root));
  }

  /** Runs `fn` after every mutation queued before it (installs, lease additions, deletions). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn);
    this.serial = run.catch(() => {});
    return run;
  }

  /**
   * Starts an upload: checks the size, reserves the capacity (synchronously: two concurrent
   * uploads cannot both take the last free bytes) and opens the temporary files. Throws
   * INVALID_SIZE or INSUFFICIENT_CAPACITY.
   */
  async beginUpload(p: UploadParams): Promise<ShardUpload> {
    if (p.root.length !== HASH) throw new ShardStoreError('INVALID_SIZE', `a root is ${HASH} bytes, got ${p.root.length}`);
    if (!isPieceSize(p.pieceSize)) throw new ShardStoreError('INVALID_SIZE', `piece size ${p.pieceSize} is not a power of two from 4096 to 1048576`);
    if (!Number.isSafeInteger(p.bytes) || p.bytes <= 0 || p.bytes % p.pieceSize !== 0) {
      throw new ShardStoreError('INVALID_SIZE', `a shard of ${p.bytes} bytes is not a positive whole number of ${p.pieceSize}-byte pieces`);
    }
    const root = rootKey(p.root);
    const held = this.shards.get(root);
    if (held && held.pieceSize !== p.pieceSize) {
      // The root does not commit to the piece size (it is the root over all leaves either way),
      // and pieces are served in the stored size: a second size for the same bytes is refused.
      throw new ShardStoreError('INVALID_SIZE', `shard ${root} is stored with ${held.pieceSize}-byte pieces, not ${p.pieceSize}`);
    }
    if (held) {
      // Held already: verify the body (the customer must have the data) but write nothing.
      this.pinned.set(root, (this.pinned.get(root) ?? 0) + 1);
      return new ShardUpload(this, { ...p, root: Uint8Array.from(p.root) }, undefined);
    }
    if (p.bytes > this.capacityBytes - this.used - this.reserved) {
      throw new ShardStoreError(
        'INSUFFICIENT_CAPACITY',
        `a ${p.bytes}-byte shard does not fit: capacity ${this.capacityBytes}, stored ${this.used}, reserved by uploads in flight ${this.reserved}`,
      );
    }
    this.reserved += p.bytes;
    const dir = join(this.tmpDir, `upload-${randomBytes(8).toString('hex')}`);
    try {
      await mkdir(dir, { mode: 0o700 });
      const { fh: data, direct } = await openData(join(dir, 'data'), 'create', this.direct);
      let leaves: FileHandle;
      try {
        leaves = await open(join(dir, 'leaves'), 'wx', 0o600);
      } catch (e) {
        await data.close();
        throw e;
      }
      return new ShardUpload(this, { ...p, root: Uint8Array.from(p.root) }, { dir, data, leaves, direct });
    } catch (e) {
      this.reserved -= p.bytes;
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** @internal A BATCH-byte upload buffer, aligned for direct writes (reused: fresh memory costs page faults). */
  takeBatchBuffer(): Buffer {
    return this.batchBuffers.pop() ?? alignedBuffer(BATCH);
  }

  /** @internal Gives an upload buffer back once no write uses it. */
  giveBatchBuffer(buf: Buffer): void {
    if (this.batchBuffers.length < MAX_BATCH_BUFFERS) this.batchBuffers.push(buf);
  }

  /** @internal ShardUpload's end: releases the reservation or the pin. */
  release(p: UploadParams, wrote: boolean): void {
    if (wrote) {
      this.reserved -= p.bytes;
      return;
    }
    const root = rootKey(p.root);
    const n = (this.pinned.get(root) ?? 1) - 1;
    if (n <= 0) this.pinned.delete(root);
    else this.pinned.set(root, n);
  }

  /**
   * @internal Moves a verified upload into shards/ (or, when the root is held already — another
   * upload of it won the race, or this one only hashed — adds the lease to it).
   */
  install(p: UploadParams, tmp: string | undefined, pieceRoots: Bytes[]): Promise<ShardMeta> {
    const root = rootKey(p.root);
    return this.exclusive(async () => {
      const held = this.shards.get(root);
      if (held) {
        if (tmp) await rm(tmp, { recursive: true, force: true });
        if (!held.leases.includes(p.lease)) {
          const next = { ...held, leases: [...held.leases, p.lease] };
          await writeFileAtomic(join(this.shardDir(root), 'meta.json'), `${JSON.stringify(next)}\n`, this.sync);
          this.shards.set(root, next);
        }
        this.inactiveSince.delete(root);
        return { ...(this.shards.get(root) as ShardMeta) };
      }
      if (!tmp) throw new ShardStoreError('SHARD_NOT_FOUND', `shard ${root} was deleted while its upload was verified; upload it again`);
      const meta: ShardMeta = { root, bytes: p.bytes, pieceSize: p.pieceSize, leases: [p.lease], createdAt: this.now() };
      await writeFileAtomic(join(tmp, 'meta.json'), `${JSON.stringify(meta)}\n`, this.sync);
      if (this.sync) await syncDir(tmp);
      await rename(tmp, this.shardDir(root));
      if (this.sync) await syncDir(this.shardsDir);
      this.shards.set(root, meta);
      this.used += meta.bytes;
      this.cachePieceRoots(root, pieceRoots);
      return { ...meta, leases: [...meta.leases] };
    });
  }

  /** Records that the shard also serves `lease`. */
  addLease(root: Bytes | string, lease: string): Promise<ShardMeta> {
    const key = rootKey(root);
    const m = this.shards.get(key);
    if (!m) return Promise.reject(new ShardStoreError('SHARD_NOT_FOUND', `no shard ${key}`));
    return this.install({ root: fromHex(key), bytes: m.bytes, pieceSize: m.pieceSize, lease }, undefined, []);
  }

  private meta(root: string): ShardMeta {
    const m = this.shards.get(root);
    if (!m) throw new ShardStoreError('SHARD_NOT_FOUND', `this provider holds no shard ${root}`);
    return m;
  }

  private cachePieceRoots(root: string, roots: Bytes[]): void {
    this.pieceRootsCache.delete(root);
    this.pieceRootsCache.set(root, roots);
    if (this.pieceRootsCache.size > PIECE_ROOTS_CACHE) this.pieceRootsCache.delete(this.pieceRootsCache.keys().next().value as string);
  }

  /** The piece roots of a shard: from the cache, else from its leaves file (read in bounded chunks). */
  private async pieceRoots(root: string, m: ShardMeta): Promise<Bytes[]> {
    const hit = this.pieceRootsCache.get(root);
    if (hit) {
      this.cachePieceRoots(root, hit); // most recently used
      return hit;
    }
    const per = leavesPerPiece(m.pieceSize);
    const pieces = m.bytes / m.pieceSize;
    // Whole pieces per read: at most 1 MiB of leaf hashes.
    const piecesPerRead = Math.max(1, Math.floor((1 << 20) / (per * HASH)));
    const out: Bytes[] = [];
    const fh = await this.openShardFile(root, 'leaves');
    try {
      for (let first = 0; first < pieces; first += piecesPerRead) {
        const n = Math.min(piecesPerRead, pieces - first);
        const buf = await readExactly(fh, n * per * HASH, first * per * HASH, `shard ${root} leaves`);
        for (let i = 0; i < n; i++) {
          const hashes: Bytes[] = [];
          for (let j = 0; j < per; j++) hashes.push(buf.subarray((i * per + j) * HASH, (i * per + j + 1) * HASH));
          out.push(pieceRoot(hashes));
        }
      }
    } finally {
      await fh.close();
    }
    if (!equals(shardRoot(out), fromHex(root))) throw new ShardStoreError('SHARD_CORRUPT', `the leaves file of shard ${root} does not hash to its root`);
    this.cachePieceRoots(root, out);
    return out;
  }

  private async openShardFile(root: string, file: 'data' | 'leaves', direct = false): Promise<FileHandle> {
    try {
      return direct ? (await openData(join(this.shardDir(root), file), 'read', true)).fh : await open(join(this.shardDir(root), file), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ShardStoreError('SHARD_NOT_FOUND', `this provider holds no shard ${root}`, { cause: e });
      throw e;
    }
  }

  /** Piece `index` of a shard with its proof to the shard root. */
  async readPiece(root: Bytes | string, index: number): Promise<PieceRead> {
    const key = rootKey(root);
    const m = this.meta(key);
    const pieces = m.bytes / m.pieceSize;
    if (!Number.isSafeInteger(index) || index < 0 || index >= pieces) throw new ShardStoreError('PIECE_NOT_FOUND', `shard ${key} has ${pieces} pieces; there is no piece ${index}`);
    const roots = await this.pieceRoots(key, m);
    const fh = await this.openShardFile(key, 'data');
    try {
      const data = await readExactly(fh, m.pieceSize, index * m.pieceSize, `shard ${key} data`);
      return { data, proof: pieceProof(roots, index), pieces };
    } finally {
      await fh.close();
    }
  }

  /** Every piece root of a shard, in order (from the leaves file, checked against the root; cached). */
  async pieceRootsOf(root: Bytes | string): Promise<Bytes[]> {
    const key = rootKey(root);
    return this.pieceRoots(key, this.meta(key));
  }

  /**
   * `length` bytes of a shard from byte `start` (RANGE_NOT_SATISFIABLE past its end; at most
   * MAX_RANGE bytes per read). Not verified here: the reader checks what it gets (a customer by
   * the segment's AES-GCM tag, or by piece proofs).
   */
  async readRange(root: Bytes | string, start: number, length: number, into?: Buffer): Promise<{ data: Buffer; total: number }> {
    const key = rootKey(root);
    const m = this.meta(key);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 1 || start + length > m.bytes) {
      throw new ShardStoreError('RANGE_NOT_SATISFIABLE', `shard ${key} has ${m.bytes} bytes; bytes ${start}–${start + length - 1} are not all in it`);
    }
    if (length > MAX_RANGE) throw new ShardStoreError('RANGE_NOT_SATISFIABLE', `at most ${MAX_RANGE} bytes per range read, not ${length}`);
    // Direct when the caller's buffer and the span allow it: a shard's bytes are read once per
    // get, and caching them would only evict what the machine uses.
    const direct = this.direct && isAlignedBuffer(into) && into.length >= length && directSpan(start, length);
    const fh = await this.openShardFile(key, 'data', direct);
    try {
      return { data: await readExactly(fh, length, start, `shard ${key} data`, into), total: m.bytes };
    } finally {
      await fh.close();
    }
  }

  /**
   * Leaf `leaf` of a shard with its path to the root: the answer to a storage challenge. The
   * leaf is checked against the leaves file first, so a damaged copy is reported (SHARD_CORRUPT)
   * rather than served.
   */
  async proveLeaf(root: Bytes | string, leaf: number): Promise<LeafProof> {
    const key = rootKey(root);
    const m = this.meta(key);
    const leafCount = m.bytes / LEAF_SIZE;
    if (!Number.isSafeInteger(leaf) || leaf < 0 || leaf >= leafCount) throw new ShardStoreError('LEAF_NOT_FOUND', `shard ${key} has ${leafCount} leaves; there is no leaf ${leaf}`);
    const per = leavesPerPiece(m.pieceSize);
    const piece = Math.floor(leaf / per);
    const roots = await this.pieceRoots(key, m);
    const [data, hashes] = await Promise.all([
      (async () => {
        const fh = await this.openShardFile(key, 'data');
        try {
          return await readExactly(fh, LEAF_SIZE, leaf * LEAF_SIZE, `shard ${key} data`);
        } finally {
          await fh.close();
        }
      })(),
      (async () => {
        const fh = await this.openShardFile(key, 'leaves');
        try {
          return await readExactly(fh, per * HASH, piece * per * HASH, `shard ${key} leaves`);
        } finally {
          await fh.close();
        }
      })(),
    ]);
    const pieceLeafHashes: Bytes[] = [];
    for (let j = 0; j < per; j++) pieceLeafHashes.push(hashes.subarray(j * HASH, (j + 1) * HASH));
    if (!equals(leafHash(data), pieceLeafHashes[leaf % per] as Bytes)) throw new ShardStoreError('SHARD_CORRUPT', `leaf ${leaf} of shard ${key} does not match its recorded hash`);
    return { data, proof: leafProof(pieceLeafHashes, roots, leaf), leafCount };
  }

  /**
   * Deletes the shards none of whose leases has been active for `graceMs` (see the file
   * comment), freeing their capacity. A shard whose upload is in flight is kept.
   */
  gc(opts: GcOptions): Promise<GcResult> {
    const now = opts.now ?? this.now();
    return this.exclusive(async () => {
      const out: GcResult = { deleted: [], freedBytes: 0, waiting: 0 };
      for (const [root, m] of [...this.shards]) {
        if (this.pinned.has(root) || m.leases.some((l) => opts.isActive(l))) {
          this.inactiveSince.delete(root);
          continue;
        }
        const since = this.inactiveSince.get(root) ?? now;
        this.inactiveSince.set(root, since);
        if (now - since < opts.graceMs) {
          out.waiting++;
          continue;
        }
        // Out of sight first (an atomic rename into tmp/), then removed.
        const trash = join(this.tmpDir, `gc-${root}-${randomBytes(4).toString('hex')}`);
        try {
          await rename(this.shardDir(root), trash);
        } catch (e) {
          // Already gone from disk (deleted by hand): forget it all the same, and go on.
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
        this.shards.delete(root);
        this.pieceRootsCache.delete(root);
        this.inactiveSince.delete(root);
        this.used -= m.bytes;
        out.deleted.push(root);
        out.freedBytes += m.bytes;
        await rm(trash, { recursive: true, force: true });
      }
      return out;
    });
  }
}

/**
 * One upload in progress: `write` each chunk as it arrives (it is written to disk and its leaves
 * hashed), then `commit` (checks the size and the root, installs the shard) or `abort`. Every
 * path ends in exactly one of them; after a failed commit the upload is aborted already.
 */
export class ShardUpload {
  private received = 0;
  /**
   * The body is gathered into whole batches of BATCH bytes (a multiple of every piece size),
   * hashed in one tight loop and written with one call per file; two buffers alternate, so one
   * is hashed while the other's disk writes finish.
   */
  private readonly batches: DoubleBuffer;
  private buffersGiven = false;
  private readonly leafBuffers = [Buffer.allocUnsafe((BATCH / LEAF_SIZE) * HASH), Buffer.allocUnsafe((BATCH / LEAF_SIZE) * HASH)];
  /** Bytes handed to disk writes so far (where the next batch goes in the data file). */
  private flushed = 0;
  /** Bytes flushed when the last background datasync was started. */
  private synced = 0;
  private syncing: Promise<void> = Promise.resolve();
  private writing: Promise<void> = Promise.resolve();
  private readonly per: number;
  private readonly pieceRoots: Bytes[] = [];
  private closed = false;

  /** @internal Made by ShardStore.beginUpload; `files` is undefined when the shard is held already. */
  constructor(
    private readonly store: ShardStore,
    readonly params: UploadParams,
    private readonly files: { dir: string; data: FileHandle; leaves: FileHandle; direct: boolean } | undefined,
  ) {
    this.per = leavesPerPiece(params.pieceSize);
    this.batches = new DoubleBuffer([store.takeBatchBuffer(), store.takeBatchBuffer()], (data, bytes, i) => this.flush(data, bytes, i));
  }

  /** Bytes received so far. */
  get receivedBytes(): number {
    return this.received;
  }

  /** Whether this upload only verifies (the store holds the root already). */
  get duplicate(): boolean {
    return this.files === undefined;
  }

  /** Writes a chunk and hashes its leaves. SIZE_MISMATCH as soon as the body runs past its declared size. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new ShardStoreError('UPLOAD_CLOSED', 'the upload was committed or aborted');
    if (this.received + chunk.length > this.params.bytes) {
      throw new ShardStoreError('SIZE_MISMATCH', `the body is longer than the declared ${this.params.bytes} bytes`);
    }
    this.received += chunk.length;
    await this.batches.add(chunk);
  }

  /** Hashes a batch (whole pieces) and starts writing it; waits for the previous batch's writes first. */
  private async flush(batch: Buffer, bytes: number, index: number): Promise<void> {
    if (bytes === 0) return;
    const data = batch.subarray(0, bytes);
    const leaves = bytes / LEAF_SIZE;
    const hashes = (this.leafBuffers[index] as Buffer).subarray(0, leaves * HASH);
    leafHashesInto(data, 0, leaves, hashes, 0);
    const at = this.flushed;
    this.flushed += bytes;
    const writes = this.files ? Promise.all([writeAllAt(this.files.data, data, at), writeAllAt(this.files.leaves, hashes, (at / LEAF_SIZE) * HASH)]).then(() => undefined) : Promise.resolve();
    writes.catch(() => {}); // awaited by the next flush, commit or abort
    // The piece roots are folded from a copy: the leaf hashes themselves go to the leaves file.
    const level = Buffer.from(hashes);
    for (let p = 0; p < leaves / this.per; p++) {
      foldSubtree(level, p * this.per * HASH, this.per);
      this.pieceRoots.push(Buffer.from(level.subarray(p * this.per * HASH, p * this.per * HASH + HASH)));
    }
    const previous = this.writing;
    this.writing = writes;
    await previous;
    // Durable as it goes: the disk flushes what arrived while the rest streams in, so the sync
    // at commit waits for the tail only.
    if (this.files && this.store.sync && this.flushed - this.synced >= SYNC_EVERY) {
      const data = this.files.data;
      this.synced = this.flushed;
      this.syncing = this.syncing.then(() => data.datasync());
      this.syncing.catch(() => {}); // awaited by commit or abort
    }
  }

  /**
   * Checks that exactly the declared bytes arrived and that they hash to the declared root, then
   * stores the shard (SIZE_MISMATCH, ROOT_MISMATCH otherwise: nothing is kept).
   */
  async commit(): Promise<ShardMeta> {
    if (this.closed) throw new ShardStoreError('UPLOAD_CLOSED', 'the upload was committed or aborted');
    try {
      if (this.received !== this.params.bytes) {
        throw new ShardStoreError('SIZE_MISMATCH', `the body ended after ${this.received} of the declared ${this.params.bytes} bytes`);
      }
      // The declared size is whole pieces, so the last batch is too.
      await this.batches.swap();
      await this.writing;
      await this.syncing;
      const root = shardRoot(this.pieceRoots);
      if (!equals(root, this.params.root)) {
        throw new ShardStoreError('ROOT_MISMATCH', `the bytes received hash to root ${toHex(root)}, not the declared ${toHex(this.params.root)}`);
      }
      if (this.files) {
        if (this.store.sync) await Promise.all([this.files.data.sync(), this.files.leaves.sync()]);
        await Promise.all([this.files.data.close(), this.files.leaves.close()]);
      }
      const meta = await this.store.install(this.params, this.files?.dir, this.pieceRoots);
      this.closed = true;
      this.store.release(this.params, this.files !== undefined);
      this.giveBuffersBack();
      return meta;
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Once no write uses them: the batch buffers go back to the store for the next upload. */
  private giveBuffersBack(): void {
    if (this.buffersGiven) return;
    this.buffersGiven = true;
    for (const b of this.batches.buffers) this.store.giveBatchBuffer(b);
  }

  /** Drops the upload: its temporary files go, its reservation is released. Safe to call twice. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writing.catch(() => {});
    await this.syncing.catch(() => {});
    this.giveBuffersBack();
    if (this.files) {
      await Promise.allSettled([this.files.data.close(), this.files.leaves.close()]);
      await rm(this.files.dir, { recursive: true, force: true });
    }
    this.store.release(this.params, this.files !== undefined);
  }
}
