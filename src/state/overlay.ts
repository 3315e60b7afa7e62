/**
 * A write layer over the committed state. A block runs in one Overlay over the store; each tx
 * runs inside a checkpoint of it: `checkpoint()` starts journaling, `revert(cp)` undoes every
 * write since, `release(cp)` keeps them. Nested checkpoints (ante, then messages) work the same
 * way. One Map per block instead of one per tx keeps the hot path allocation-light.
 *
 * Reads that fall through to the parent can be cached for the life of the overlay (params,
 * module accounts and hot accounts are read by almost every tx).
 */
import { fromKeyString, toKeyString, type Bytes } from '../core/bytes.js';
import { InvariantError } from '../core/errors.js';
import { OrderedWrites } from './ordered.js';

/**
 * A state key: bytes, or the same bytes as a latin1 string (one char per byte, see
 * toKeyString). Hot paths build string keys directly and skip a buffer per access.
 */
export type Key = Bytes | string;

export function keyString(key: Key): string {
  return typeof key === 'string' ? key : toKeyString(key);
}

export function keyBytes(key: Key): Bytes {
  return typeof key === 'string' ? fromKeyString(key) : key;
}

/**
 * Pending writes in [start, end) (key string → value, null for a deletion, in key order) laid
 * over an ordered iteration of the layer below: the merged entries in key order, deletions dropped.
 */
export function mergeWrites(
  writes: OrderedWrites,
  start: Bytes,
  end: Bytes | undefined,
  below: IterableIterator<[Bytes, Bytes]>,
): IterableIterator<[Bytes, Bytes]> {
  const mine = writes.range(toKeyString(start), end === undefined ? undefined : toKeyString(end));
  // Nothing pending in the range (the common case for large scans): the layer below as is,
  // without a key-string conversion per entry.
  return mine.length === 0 ? below : merged(mine, below);
}

function* merged(mine: [string, Bytes | null][], below: Iterable<[Bytes, Bytes]>): IterableIterator<[Bytes, Bytes]> {
  let i = 0;
  for (const [k, v] of below) {
    const ks = toKeyString(k);
    while (i < mine.length && (mine[i] as [string, Bytes | null])[0] < ks) {
      const [mk, mv] = mine[i++] as [string, Bytes | null];
      if (mv !== null) yield [fromKeyString(mk), mv];
    }
    if (i < mine.length && (mine[i] as [string, Bytes | null])[0] === ks) {
      const mv = (mine[i++] as [string, Bytes | null])[1];
      if (mv !== null) yield [k, mv];
      continue;
    }
    yield [k, v];
  }
  for (; i < mine.length; i++) {
    const [mk, mv] = mine[i] as [string, Bytes | null];
    if (mv !== null) yield [fromKeyString(mk), mv];
  }
}

export interface KVReader {
  get(key: Key): Bytes | undefined;
  /** Entries with start <= key < end (end undefined: to the end), in key order. */
  iterate(start: Bytes, end: Bytes | undefined): IterableIterator<[Bytes, Bytes]>;
  /**
   * The same entries as iterate, through a callback that gets transient views: valid only until
   * it returns, and it must not read the store. Optional (scanRange falls back to iterate); the
   * fast path for scans of millions of entries.
   */
  scan?(start: Bytes, end: Bytes | undefined, visit: (key: Bytes, value: Bytes) => void): void;
}

/** Byte order of a key string (see toKeyString) and key bytes, without converting either. */
function compareKS(ks: string, b: Bytes): number {
  const n = ks.length < b.length ? ks.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = ks.charCodeAt(i) - (b[i] as number);
    if (d !== 0) return d;
  }
  return ks.length - b.length;
}

/**
 * Scans pending writes `mine` (from OrderedWrites.range: key order, null for a deletion) laid
 * over `scanBelow`'s entries, like merged() but through callbacks: the layer below keeps its
 * transient fast path. Pending entries are passed as they are (not transient, which is fine).
 */
export function scanMerged(
  mine: [string, Bytes | null][],
  scanBelow: (visit: (key: Bytes, value: Bytes) => void) => void,
  visit: (key: Bytes, value: Bytes) => void,
): void {
  let i = 0;
  scanBelow((k, v) => {
    let c = 1;
    while (i < mine.length && (c = compareKS((mine[i] as [string, Bytes | null])[0], k)) < 0) {
      const [mk, mv] = mine[i++] as [string, Bytes | null];
      if (mv !== null) visit(fromKeyString(mk), mv);
      c = 1;
    }
    if (i < mine.length && c === 0) {
      const mv = (mine[i++] as [string, Bytes | null])[1];
      if (mv !== null) visit(k, mv);
      return;
    }
    visit(k, v);
  });
  for (; i < mine.length; i++) {
    const [mk, mv] = mine[i] as [string, Bytes | null];
    if (mv !== null) visit(fromKeyString(mk), mv);
  }
}

/** Scans `reader` (see KVReader.scan): its fast path where it has one, else iterate. */
export function scanRange(reader: KVReader, start: Bytes, end: Bytes | undefined, visit: (key: Bytes, value: Bytes) => void): void {
  if (reader.scan) reader.scan(start, end, visit);
  else for (const [k, v] of reader.iterate(start, end)) visit(k, v);
}

export interface KVStore extends KVReader {
  set(key: Key, value: Bytes): void;
  delete(key: Key): void;
}

const ABSENT = Symbol('absent');

/**
 * Longest state key (bytes). LMDB keys are at most 1978 bytes and cannot be empty; a module that
 * builds keys from user input must hash or bound that input. Checked on every write, so a bad
 * key fails the tx that wrote it instead of the block's commit.
 */
export const MAX_KEY_BYTES = 1024;

export class Overlay implements KVStore {
  /** key string → value, or null for a deletion. */
  private readonly writes = new OrderedWrites();
  private readonly reads: Map<string, Bytes | null> | undefined;
  /**
   * Flattened (key, previous write or ABSENT) pairs, while a checkpoint is open. The array is
   * reused (`jlen` is its logical length): most txs write a handful of keys, and regrowing an
   * emptied array for each one is measurable.
   */
  private readonly journal: Array<string | Bytes | null | typeof ABSENT> = [];
  private jlen = 0;
  private depth = 0;
  /** While tracing: the value each key had when first read (if not written before), and the last value written per key. */
  private trace: { reads: Map<string, Bytes | null>; writes: Map<string, Bytes | null> } | undefined;

  constructor(
    private readonly parent: KVReader,
    opts: { cacheReads?: boolean; reads?: Map<string, Bytes | null> } = {},
  ) {
    this.reads = opts.reads ?? (opts.cacheReads ? new Map() : undefined);
  }

  /**
   * Values read from the parent so far (null: absent). Another overlay over the same parent,
   * at the same version, may share it.
   */
  get readCache(): Map<string, Bytes | null> | undefined {
    return this.reads;
  }

  /** Whether the parent held `ks` when it was read through this overlay; undefined if never read. */
  parentHad(ks: string): boolean | undefined {
    const r = this.reads?.get(ks);
    return r === undefined ? undefined : r !== null;
  }

  get(key: Key): Bytes | undefined {
    const ks = keyString(key);
    const v = this.lookup(ks, key);
    const t = this.trace;
    if (t && !t.reads.has(ks) && !t.writes.has(ks)) t.reads.set(ks, v ?? null);
    return v;
  }

  private lookup(ks: string, key: Key): Bytes | undefined {
    const w = this.writes.get(ks);
    if (w !== undefined) return w === null ? undefined : w;
    if (!this.reads) return this.parent.get(key);
    const r = this.reads.get(ks);
    if (r !== undefined) return r === null ? undefined : r;
    const v = this.parent.get(key);
    this.reads.set(ks, v ?? null);
    return v;
  }

  set(key: Key, value: Bytes): void {
    this.put(keyString(key), value);
  }

  delete(key: Key): void {
    this.put(keyString(key), null);
  }

  private put(ks: string, value: Bytes | null): void {
    if (ks.length === 0 || ks.length > MAX_KEY_BYTES) throw new InvariantError(`state key of ${ks.length} bytes (must be 1..${MAX_KEY_BYTES})`);
    this.trace?.writes.set(ks, value);
    if (this.depth > 0) {
      const prev = this.writes.get(ks);
      this.journal[this.jlen++] = ks;
      this.journal[this.jlen++] = prev === undefined ? ABSENT : prev;
    }
    this.writes.set(ks, value);
  }

  /**
   * Starts recording the keys read and the values written (what one tx touched); endTrace
   * returns them. Used by the mempool to tell which pending txs a block invalidates.
   */
  beginTrace(): void {
    this.trace = { reads: new Map(), writes: new Map() };
  }

  endTrace(): { reads: Map<string, Bytes | null>; writes: Map<string, Bytes | null> } {
    const t = this.trace ?? { reads: new Map<string, Bytes | null>(), writes: new Map<string, Bytes | null>() };
    this.trace = undefined;
    return t;
  }

  /** Writes `ks` → value directly (replaying a traced tx whose inputs did not change). */
  replay(writes: ReadonlyMap<string, Bytes | null>): void {
    for (const [ks, v] of writes) this.put(ks, v);
  }

  /** Opens a checkpoint; every write after it can be undone with revert. */
  checkpoint(): number {
    this.depth++;
    return this.jlen;
  }

  /** Undoes the writes made since checkpoint `cp` and closes it. */
  revert(cp: number): void {
    if (this.depth === 0) throw new InvariantError('revert without a checkpoint');
    while (this.jlen > cp) {
      const prev = this.journal[--this.jlen] as Bytes | null | typeof ABSENT;
      const ks = this.journal[--this.jlen] as string;
      if (prev === ABSENT) this.writes.delete(ks);
      else this.writes.set(ks, prev);
    }
    this.close();
  }

  /** Keeps the writes made since checkpoint `cp` and closes it. */
  release(cp: number): void {
    if (this.depth === 0 || cp > this.jlen) throw new InvariantError('release without a checkpoint');
    this.close();
  }

  private close(): void {
    this.depth--;
    if (this.depth === 0) {
      // Drop references so journaled values can be collected (the slots stay allocated).
      this.journal.fill(undefined as never, 0, this.jlen);
      this.jlen = 0;
    }
  }

  iterate(start: Bytes, end: Bytes | undefined): IterableIterator<[Bytes, Bytes]> {
    return mergeWrites(this.writes, start, end, this.parent.iterate(start, end));
  }

  scan(start: Bytes, end: Bytes | undefined, visit: (key: Bytes, value: Bytes) => void): void {
    if (this.trace) {
      for (const [k, v] of this.iterate(start, end)) visit(k, v);
      return;
    }
    const mine = this.writes.range(toKeyString(start), end === undefined ? undefined : toKeyString(end));
    if (mine.length === 0) scanRange(this.parent, start, end, visit);
    else scanMerged(mine, (below) => scanRange(this.parent, start, end, below), visit);
  }

  /** Everything written (key string → value, null for deleted). */
  get changes(): ReadonlyMap<string, Bytes | null> {
    if (this.depth > 0) throw new InvariantError('changes read while a checkpoint is open');
    return this.writes.map;
  }

  get size(): number {
    return this.writes.size;
  }
}
