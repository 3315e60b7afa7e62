/**
 * The embedded storage engine: one LMDB environment per node home, split into named tables.
 *
 * LMDB (via lmdb-js) is a memory-mapped copy-on-write B+tree: reads are synchronous and cost a
 * couple of microseconds (the state machine reads in its inner loop), a transaction is atomic
 * and crash-safe with no write-ahead log to replay, and readers never block the writer. lmdb-js
 * runs commits on its own thread; every write issued in one event turn lands in one transaction.
 * `write()` relies on that to make a block (state, tree nodes, block, indexes) all-or-nothing.
 */
import { open, type Database as LmdbTable, type RootDatabase } from 'lmdb';
import type { Bytes } from '../core/bytes.js';

export type Table = LmdbTable<Buffer, Buffer>;

export interface WriteOp {
  table: Table;
  key: Bytes;
  /** undefined removes the key. */
  value: Bytes | undefined;
}

export interface DatabaseOptions {
  /** Skip fsync (tests only): a process crash still loses nothing, a power cut may. */
  noSync?: boolean;
}

/**
 * Keys and values read from LMDB are copied out of its shared read buffer into Node's pooled
 * Buffer slab. lmdb-js's 'binary' encoding copies with Uint8Array.prototype.slice, which gives
 * every small key and value its own ArrayBuffer (~0.7 µs each, measured; a pooled copy is
 * ~0.15 µs): the difference dominates a scan of a million entries (an epoch close).
 */
function pooledCopy(src: Uint8Array, start: number, end: number): Buffer {
  const n = end - start;
  const out = Buffer.allocUnsafe(n);
  if (n <= 64) for (let i = 0; i < n; i++) out[i] = src[start + i] as number;
  else out.set(src.subarray(start, end));
  return out;
}
/** While a transient scan runs: keys and values are views of lmdb-js's read buffers, not copies. */
let transient = false;
const pooledKeys = {
  /** Key bytes, or the same bytes as a latin1 key string (getByKeyString): no buffer per read. */
  writeKey(key: Uint8Array | string, target: Buffer, start: number): number {
    if (typeof key === 'string') return start + target.write(key, start, 'latin1');
    target.set(key, start);
    return start + key.length;
  },
  readKey: (target: Uint8Array, start: number, end: number): Uint8Array => (transient ? target.subarray(start, end) : pooledCopy(target, start, end)),
};
const pooledValues = {
  /** Values are stored as given (already bytes). */
  encode: (v: Uint8Array): Uint8Array => v,
  /** `bytes` is lmdb-js's reused read buffer, its length set to the value's size: copy it out. */
  decode: (bytes: Uint8Array): Uint8Array => (transient ? bytes.subarray(0, bytes.length) : pooledCopy(bytes, 0, bytes.length)),
};

/**
 * Calls `visit` for each entry of `table` with start <= key < end, in key order, passing views
 * of LMDB's read buffers: they are valid only until `visit` returns, and `visit` must not read
 * the database (that would overwrite them). For scans of millions of entries (an epoch close),
 * where a copy per key and value is most of the cost.
 */
export function scanTransient(table: Table, start: Bytes, end: Bytes | undefined, visit: (key: Bytes, value: Bytes) => void): void {
  const opts = end ? { start: toBuffer(start), end: toBuffer(end) } : { start: toBuffer(start) };
  transient = true;
  try {
    for (const { key, value } of table.getRange(opts)) visit(key, value);
  } finally {
    transient = false;
  }
}

/**
 * `table.get` by a key string (one char per byte, see core/bytes toKeyString): the key encoder
 * writes it straight into lmdb-js's key buffer, where converting it to a Buffer first costs an
 * allocation per read.
 */
export function getByKeyString(table: Table, ks: string): Buffer | undefined {
  return table.get(ks as unknown as Buffer);
}

export class Database {
  private readonly env: RootDatabase;
  private readonly tables = new Map<string, Table>();

  constructor(readonly path: string, opts: DatabaseOptions = {}) {
    this.env = open({ path, maxDbs: 32, noSync: opts.noSync ?? false, compression: false });
  }

  table(name: string): Table {
    let t = this.tables.get(name);
    if (!t) {
      t = this.env.openDB<Buffer, Buffer>({ name, keyEncoder: pooledKeys, encoder: pooledValues } as never);
      // With a custom key encoder lmdb-js starts open-ended scans at key 0x05 (it reserves lower
      // keys for its own metadata under ordered-binary keys); ours are raw bytes: start at 0x00.
      (t as unknown as { defaultBeginningKey: Buffer }).defaultBeginningKey = Buffer.from([0]);
      this.tables.set(name, t);
    }
    return t;
  }

  /**
   * Applies all `ops` in one atomic, durable transaction. Resolves once the data is on disk;
   * until then readers see the previous state.
   */
  async write(ops: readonly WriteOp[]): Promise<void> {
    if (ops.length === 0) return;
    // The callback runs once lmdb-js's writer thread holds the write transaction; puts inside it
    // go straight into that transaction (no promise per put) and the commit runs off-thread.
    // A child transaction: should a put throw, its writes are aborted together.
    await this.env.childTransaction(() => {
      for (const op of ops) {
        const key = toBuffer(op.key);
        if (op.value === undefined) op.table.removeSync(key);
        else op.table.putSync(key, toValue(op.value));
      }
    });
    await this.env.flushed;
  }

  /** Synchronous atomic write, for setup paths (init, genesis) where nothing else is queued. */
  writeSync(ops: readonly WriteOp[]): void {
    this.env.transactionSync(() => {
      for (const op of ops) {
        const key = toBuffer(op.key);
        if (op.value === undefined) op.table.removeSync(key);
        else op.table.putSync(key, toValue(op.value));
      }
    });
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}

/** Reused memory for toValue's copies (up to SCRATCH_MAX bytes; larger values get their own). */
let scratch = Buffer.alloc(0);
const SCRATCH_MAX = 1 << 22;

/**
 * A value as lmdb-js can write it, inside a write transaction. lmdb-js finds a value's memory
 * with napi_get_arraybuffer_info, which does not accept a SharedArrayBuffer (it then reads from
 * a wrong address): a value in shared memory (a manifest chunk the leaf-hashing thread read) is
 * copied first. Into reused memory: a putSync inside a transaction has copied the value into
 * LMDB's pages when it returns, and fresh memory for ~120 MB of manifest chunks would cost a
 * page fault per 4 KiB.
 */
function toValue(b: Bytes): Buffer {
  if (!(b.buffer instanceof SharedArrayBuffer)) return toBuffer(b);
  if (b.length > SCRATCH_MAX) return Buffer.from(b);
  if (scratch.length < b.length) scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX, Math.max(b.length, scratch.length * 2)));
  scratch.set(b);
  return scratch.subarray(0, b.length);
}

export function toBuffer(b: Bytes): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A Buffer is a Uint8Array; this only narrows the type. */
export function fromBuffer(b: Buffer): Bytes {
  return b;
}
