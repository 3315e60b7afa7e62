/**
 * Authenticated, persistent state.
 *
 * - The versioned Merkle tree (jmt.ts): the app hash, proofs at any retained height. Its nodes
 *   are append-only (keys sorted by version), so a commit writes changed keys × depth nodes.
 * - A changeset per version (the keys a block changed and their new values): one sequential
 *   write per block.
 * - The latest values, for reads and ordered iteration by the state machine: a `values` table
 *   materialized up to a "flushed" version, plus the changes after it held in memory
 *   (`recent`, rebuilt from the changesets on start). The table is brought up to date only
 *   every `flushEvery` changed keys: rewriting a B-tree in place for every block would touch
 *   nearly every page of a large state each block, making commit cost grow with state size.
 *
 * Everything a block changes is written in the same LMDB transaction as the block itself, so
 * after a crash the store is exactly at some committed height.
 */
import { copyBytes, equals, fromKeyString, toKeyString, u64be, readU64be, type Bytes } from '../core/bytes.js';
import { bytes, decode, encode, list, option, struct } from '../core/codec.js';
import { InvariantError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { fromBuffer, getByKeyString, scanTransient, toBuffer, type Database, type Table, type WriteOp } from './db.js';
import { EMPTY_ROOT, childAt, unpackNodeKeys, decodeNode, getValue, nodeKey, prove, updateTree, type Change, type ChildRef, type InternalNode, type MemoryBudget, type NodeReader, type ProvenValue, type TreeNode, type TreeUpdate } from './jmt.js';
import { keyString, mergeWrites, scanMerged, type Key, type KVReader } from './overlay.js';
import { OrderedWrites } from './ordered.js';
import { MAX_VALUE_BYTES } from './proof.js';

const META_VERSION = new TextEncoder().encode('state/version');
const META_FLUSHED = new TextEncoder().encode('state/flushed');

const changesetCodec = list(struct('Change', { key: bytes(4096), value: option(bytes(MAX_VALUE_BYTES)) }), 100_000_000);

/** Tree update computed for a version but not yet written. */
export interface PreparedCommit {
  readonly version: number;
  readonly rootHash: Bytes;
  readonly ops: WriteOp[];
  readonly update: TreeUpdate;
  /** key string → new value (null: deleted). */
  readonly changes: ReadonlyMap<string, Bytes | null>;
  /** This commit also brings the values table up to date. */
  readonly flush: boolean;
}

/**
 * A two-generation cache: entries live in `young` until it fills, then `young` becomes `old`
 * and a hit in `old` moves the entry back. Approximates LRU with O(1) operations (a Map used as
 * an LRU by deleting its oldest key degrades badly in V8 under heavy churn).
 */
class GenerationalCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.young.get(k);
    if (v !== undefined) return v;
    const o = this.old.get(k);
    if (o !== undefined) this.set(k, o);
    return o;
  }
  set(k: string, v: V): void {
    this.young.set(k, v);
    if (this.young.size >= this.max / 2) {
      this.old = this.young;
      this.young = new Map();
    }
  }
}

function encodeRoot(r: ChildRef | null): Bytes {
  if (!r) return new Uint8Array(0);
  const out = new Uint8Array(41);
  new DataView(out.buffer).setBigUint64(0, BigInt(r.version));
  out[8] = r.leaf ? 1 : 0;
  out.set(r.hash, 9);
  return out;
}

function decodeRoot(b: Bytes): ChildRef | null {
  if (b.length === 0) return null;
  return { version: Number(readU64be(b, 0)), leaf: b[8] === 1, hash: copyBytes(b.subarray(9, 41)) };
}

export interface StateStoreOptions {
  /**
   * Internal nodes of the latest tree kept in memory, linked parent to child (updates then
   * walk pointers instead of reading nodes); older versions' nodes go through a smaller cache.
   */
  nodeCacheSize?: number;
  /** Bring the values table up to date once this many changed keys are pending. */
  flushEvery?: number;
}

export class StateStore implements NodeReader, KVReader {
  private readonly values: Table;
  private readonly changesets: Table;
  private readonly nodes: Table;
  private readonly roots: Table;
  private readonly stale: Table;
  private readonly meta: Table;
  private readonly cache: GenerationalCache<TreeNode>;
  private readonly flushEvery: number;
  /** Changes after the flushed version, latest value per key (null: deleted). */
  private readonly recent = new OrderedWrites();
  private _version: number;
  private _flushed: number;
  private _root: ChildRef | null;
  /** The latest root in memory, with the subtrees linked so far. */
  private rootNode: InternalNode | undefined;
  private readonly budget: MemoryBudget;
  /** Tree node reads that missed the cache (diagnostics). */
  misses = 0;

  constructor(
    readonly db: Database,
    opts: StateStoreOptions = {},
  ) {
    this.values = db.table('state.values');
    this.changesets = db.table('state.changes');
    this.nodes = db.table('state.nodes');
    this.roots = db.table('state.roots');
    this.stale = db.table('state.stale');
    this.meta = db.table('state.meta');
    this.cache = new GenerationalCache(100_000);
    this.budget = { remaining: opts.nodeCacheSize ?? 400_000 };
    this.flushEvery = opts.flushEvery ?? 100_000;
    const v = this.meta.get(toBuffer(META_VERSION));
    this._version = v ? Number(readU64be(fromBuffer(v))) : -1;
    const f = this.meta.get(toBuffer(META_FLUSHED));
    this._flushed = f ? Number(readU64be(fromBuffer(f))) : this._version;
    this._root = this._version >= 0 ? (this.rootAt(this._version) ?? null) : null;
    this.rootNode = this.memNode(this._root, []);
    // Rebuild the unflushed changes from the changesets.
    for (let ver = this._flushed + 1; ver <= this._version; ver++) {
      const cs = this.changesets.get(toBuffer(u64be(ver)));
      if (!cs) throw new InvariantError(`changeset of version ${ver} is missing`);
      for (const c of decode(changesetCodec, fromBuffer(cs))) this.recent.set(toKeyString(c.key), c.value === null ? null : copyBytes(c.value));
    }
  }

  /** A tree node read from disk as an in-memory node (no children linked yet). */
  private memNode(ref: ChildRef | null | undefined, path: number[]): InternalNode | undefined {
    if (!ref || ref.leaf) return undefined;
    const n = this.getNode(nodeKey(ref.version, path));
    return n && n.type === 'internal' ? { type: 'internal', bytes: copyBytes(n.bytes) } : undefined;
  }

  /**
   * Loads the upper levels of the latest tree into memory (down to `maxDepth`), so the first
   * blocks after a start do not read a node from disk on every path. Returns the nodes loaded.
   */
  warmCache(maxDepth = 4): number {
    let loaded = 0;
    const build = (ref: ChildRef, path: number[]): InternalNode | undefined => {
      const base = this.memNode(ref, path);
      if (!base) return undefined;
      loaded++;
      if (path.length >= maxDepth || this.budget.remaining <= 0) return base;
      const kids = new Array<InternalNode | undefined>(16);
      for (let nib = 0; nib < 16; nib++) {
        const c = childAt(base, nib);
        if (c && !c.leaf && this.budget.remaining > 0) {
          this.budget.remaining--;
          kids[nib] = build(c, [...path, nib]);
        }
      }
      return { type: 'internal', bytes: base.bytes, kids };
    };
    if (this._root && !this._root.leaf) this.rootNode = build(this._root, []);
    return loaded;
  }

  /** Latest committed version (block height), or -1 before genesis. */
  get version(): number {
    return this._version;
  }

  get rootHash(): Bytes {
    return this._root?.hash ?? EMPTY_ROOT;
  }

  /** The latest committed value of `key`. */
  get(key: Key): Bytes | undefined {
    const ks = keyString(key);
    const r = this.recent.get(ks);
    if (r !== undefined) return r === null ? undefined : r;
    const b = typeof key === 'string' ? getByKeyString(this.values, key) : this.values.get(toBuffer(key));
    return b ? fromBuffer(b) : undefined;
  }

  iterate(start: Bytes, end: Bytes | undefined): IterableIterator<[Bytes, Bytes]> {
    const opts = end ? { start: toBuffer(start), end: toBuffer(end) } : { start: toBuffer(start) };
    const flushed = (function* (rows: Iterable<{ key: Buffer; value: Buffer }>): IterableIterator<[Bytes, Bytes]> {
      for (const { key, value } of rows) yield [fromBuffer(key), fromBuffer(value)];
    })(this.values.getRange(opts));
    return mergeWrites(this.recent, start, end, flushed);
  }

  scan(start: Bytes, end: Bytes | undefined, visit: (key: Bytes, value: Bytes) => void): void {
    const mine = this.recent.range(toKeyString(start), end === undefined ? undefined : toKeyString(end));
    if (mine.length === 0) scanTransient(this.values, start, end, visit);
    else scanMerged(mine, (below) => scanTransient(this.values, start, end, below), visit);
  }

  getNode(nodeKey: Bytes): TreeNode | undefined {
    const k = toKeyString(nodeKey);
    const hit = this.cache.get(k);
    if (hit) return hit;
    const b = this.nodes.get(toBuffer(nodeKey));
    this.misses++;
    if (!b) return undefined;
    const node = decodeNode(fromBuffer(b));
    // Internal nodes are on many paths and worth keeping; leaves are read about once.
    if (node.type === 'internal') this.cache.set(k, { type: 'internal', bytes: copyBytes(node.bytes) });
    return node;
  }

  /** The tree root at `version`; undefined when that version is unknown or pruned. */
  rootAt(version: number): ChildRef | null | undefined {
    const b = this.roots.get(toBuffer(u64be(version)));
    return b ? decodeRoot(fromBuffer(b)) : undefined;
  }

  rootHashAt(version: number): Bytes | undefined {
    const r = this.rootAt(version);
    return r === undefined ? undefined : (r?.hash ?? EMPTY_ROOT);
  }

  /** Value of `key` at `version` with a Merkle proof against that version's root. */
  proveAt(key: Bytes, version: number): (ProvenValue & { rootHash: Bytes }) | undefined {
    const root = this.rootAt(version);
    if (root === undefined) return undefined;
    return { ...prove(this, root, key), rootHash: root?.hash ?? EMPTY_ROOT };
  }

  getAt(key: Bytes, version: number): Bytes | null | undefined {
    const root = this.rootAt(version);
    if (root === undefined) return undefined;
    return getValue(this, root, key);
  }

  /**
   * Computes the tree for `version` from the latest one plus `changes` (key string → value or
   * null) and the writes that persist it. Nothing is written until the caller writes `ops`.
   * `knownExisting` tells, when known, whether a key held a value before (the block read it).
   */
  prepare(version: number, changes: ReadonlyMap<string, Bytes | null>, knownExisting?: (ks: string) => boolean | undefined): PreparedCommit {
    if (version !== this._version + 1) throw new InvariantError(`state version ${version} does not follow ${this._version}`);
    const list: Change[] = [];
    const order: string[] = [];
    for (const [ks, value] of changes) {
      const key = fromKeyString(ks);
      const keyHash = sha256(key);
      // Sort by key hash via latin1 strings: the engine's string sort beats a comparator call.
      order.push(`${toKeyString(keyHash)}${String.fromCharCode(list.length & 0xffff, list.length >>> 16)}`);
      list.push({ key, keyHash, value, existed: knownExisting?.(ks) ?? this.get(key) !== undefined });
    }
    order.sort();
    const sorted = order.map((o) => list[o.charCodeAt(32) | (o.charCodeAt(33) << 16)] as Change);
    const update = updateTree(this, this._root, version, sorted, this.rootNode, this.budget);
    const ops: WriteOp[] = [];
    for (const n of update.newNodes) ops.push({ table: this.nodes, key: n.nodeKey, value: n.encoded });
    ops.push({ table: this.roots, key: u64be(version), value: encodeRoot(update.root) });
    if (update.staleCount > 0) ops.push({ table: this.stale, key: u64be(version), value: update.stale });
    ops.push({ table: this.meta, key: META_VERSION, value: u64be(version) });
    const flush = version === 0 || this.recent.size + changes.size >= this.flushEvery;
    if (flush) {
      // Materialize every pending change (in key order, for B-tree locality); the changesets
      // up to here are no longer needed.
      const all = new Map(this.recent.map);
      for (const [k, v] of changes) all.set(k, v);
      for (const ks of [...all.keys()].sort()) ops.push({ table: this.values, key: fromKeyString(ks), value: all.get(ks) ?? undefined });
      for (let v = this._flushed + 1; v < version; v++) ops.push({ table: this.changesets, key: u64be(v), value: undefined });
      ops.push({ table: this.meta, key: META_FLUSHED, value: u64be(version) });
    } else {
      ops.push({ table: this.changesets, key: u64be(version), value: encode(changesetCodec, list.map((c) => ({ key: c.key, value: c.value }))) });
    }
    return { version, rootHash: update.rootHash, ops, update, changes, flush };
  }

  /** Marks a prepared commit as written (call after its ops are durable). */
  committed(p: PreparedCommit): void {
    this.rootNode = p.update.rootNode;
    if (p.flush) {
      this.recent.clear();
      this._flushed = p.version;
    } else {
      // Compact copies: the values may be views into shared pool memory that must not be kept
      // alive until the next flush.
      for (const [k, v] of p.changes) this.recent.set(k, v === null ? null : copyBytes(v));
    }
    this._version = p.version;
    this._root = p.update.root;
  }

  /** Persists a prepared commit on its own. */
  async commit(p: PreparedCommit): Promise<void> {
    await this.db.write(p.ops);
    this.committed(p);
  }

  /**
   * Deletes tree nodes that no version at or after `keepFrom` needs. A node replaced at version
   * s is needed only by versions < s, so every stale list with s <= keepFrom can go.
   */
  async prune(keepFrom: number): Promise<number> {
    const ops: WriteOp[] = [];
    let removed = 0;
    for (const { key, value } of this.stale.getRange({ end: toBuffer(u64be(keepFrom + 1)) })) {
      for (const nk of unpackNodeKeys(fromBuffer(value))) {
        ops.push({ table: this.nodes, key: nk, value: undefined });
        removed++;
      }
      ops.push({ table: this.stale, key: fromBuffer(key), value: undefined });
      if (ops.length > 50_000) break;
    }
    for (const { key } of this.roots.getRange({ end: toBuffer(u64be(keepFrom)) })) {
      ops.push({ table: this.roots, key: fromBuffer(key), value: undefined });
    }
    await this.db.write(ops);
    return removed;
  }

  /** Whether the stored root of `version` is `hash`. */
  matches(version: number, hash: Bytes): boolean {
    const h = this.rootHashAt(version);
    return h !== undefined && equals(h, hash);
  }
}

