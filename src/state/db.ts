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

export class Database {
  private readonly env: RootDatabase;
  private readonly tables = new Map<string, Table>();

  constructor(readonly path: string, opts: DatabaseOptions = {}) {
    this.env = open({ path, maxDbs: 32, noSync: opts.noSync ?? false, compression: false });
  }

  table(name: string): Table {
    let t = this.tables.get(name);
    if (!t) {
      t = this.env.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
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
        else op.table.putSync(key, toBuffer(op.value));
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
        else op.table.putSync(key, toBuffer(op.value));
      }
    });
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}

export function toBuffer(b: Bytes): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A Buffer is a Uint8Array; this only narrows the type. */
export function fromBuffer(b: Buffer): Bytes {
  return b;
}
