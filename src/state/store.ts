/**
 * Authenticated, persistent state: the latest values (for fast reads and ordered iteration by
 * the state machine) plus the versioned Merkle tree (for the app hash and for proofs at any
 * retained height). Both are written in the same LMDB transaction as the block that changed
 * them, so after a crash the store is exactly at some committed height.
 */
import { equals, fromKeyString, toKeyString, u64be, readU64be, type Bytes } from '../core/bytes.js';
import { InvariantError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { fromBuffer, toBuffer, type Database, type Table, type WriteOp } from './db.js';
import {
  EMPTY_ROOT,
  decodeNode,
  getValue,
  prove,
  updateTree,
  type Change,
  type ChildRef,
  type NodeReader,
  type ProvenValue,
  type TreeNode,
  type TreeUpdate,
} from './jmt.js';
import type { KVReader } from './overlay.js';

const META_VERSION = new TextEncoder().encode('state/version');

/** Tree update computed for a version but not yet written. */
export interface PreparedCommit {
  readonly version: number;
  readonly rootHash: Bytes;
  readonly ops: WriteOp[];
  readonly update: TreeUpdate;
  readonly changes: ReadonlyMap<string, Bytes | null>;
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
  return { version: Number(readU64be(b, 0)), leaf: b[8] === 1, hash: b.slice(9, 41) };
}

export interface StateStoreOptions {
  /** Decoded tree nodes kept in memory (the upper levels are on every path). */
  nodeCacheSize?: number;
}

export class StateStore implements NodeReader, KVReader {
  private readonly values: Table;
  private readonly nodes: Table;
  private readonly roots: Table;
  private readonly stale: Table;
  private readonly meta: Table;
  private readonly cache: GenerationalCache<TreeNode>;
  private _version: number;
  /** Tree node reads that missed the cache (diagnostics). */
  misses = 0;
  private _root: ChildRef | null;

  constructor(
    readonly db: Database,
    opts: StateStoreOptions = {},
  ) {
    this.values = db.table('state.values');
    this.nodes = db.table('state.nodes');
    this.roots = db.table('state.roots');
    this.stale = db.table('state.stale');
    this.meta = db.table('state.meta');
    this.cache = new GenerationalCache(opts.nodeCacheSize ?? 400_000);
    const v = this.meta.get(toBuffer(META_VERSION));
    this._version = v ? Number(readU64be(fromBuffer(v))) : -1;
    this._root = this._version >= 0 ? this.rootAt(this._version) ?? null : null;
  }

  /** Latest committed version (block height), or -1 before genesis. */
  get version(): number {
    return this._version;
  }

  get rootHash(): Bytes {
    return this._root?.hash ?? EMPTY_ROOT;
  }

  get(key: Bytes): Bytes | undefined {
    const b = this.values.get(toBuffer(key));
    return b ? fromBuffer(b) : undefined;
  }

  *iterate(start: Bytes, end: Bytes | undefined): IterableIterator<[Bytes, Bytes]> {
    const opts = end ? { start: toBuffer(start), end: toBuffer(end) } : { start: toBuffer(start) };
    for (const { key, value } of this.values.getRange(opts)) yield [fromBuffer(key), fromBuffer(value)];
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
    if (node.type === 'internal') this.cache.set(k, { type: 'internal', bytes: Uint8Array.from(node.bytes) });
    return node;
  }

  /** The tree root at `version`; undefined when that version is unknown or pruned. */
  rootAt(version: number): ChildRef | null | undefined {
    const b = this.roots.get(toBuffer(u64be(version)));
    return b ? decodeRoot(fromBuffer(b)) : undefined;
  }

  rootHashAt(version: number): Bytes | undefined {
    const r = this.rootAt(version);
    return r === undefined ? undefined : r?.hash ?? EMPTY_ROOT;
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
   * null), and the writes that persist it. Nothing is written until `commit`.
   */
  prepare(version: number, changes: ReadonlyMap<string, Bytes | null>, knownExisting?: (ks: string) => boolean | undefined): PreparedCommit {
    if (version !== this._version + 1) throw new InvariantError(`state version ${version} does not follow ${this._version}`);
    const list: Change[] = [];
    const order: string[] = [];
    // Values are written in key order (B-tree locality), tree changes in key-hash order.
    const entries = [...changes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [ks, value] of entries) {
      const key = fromKeyString(ks);
      const keyHash = sha256(key);
      // Sort by key hash via latin1 strings: the engine's string sort beats a comparator call.
      order.push(`${toKeyString(keyHash)}${String.fromCharCode(list.length & 0xffff, list.length >>> 16)}`);
      list.push({ key, keyHash, value, existed: knownExisting?.(ks) ?? this.values.doesExist(toBuffer(key)) });
    }
    order.sort();
    const sorted = order.map((o) => list[o.charCodeAt(32) | (o.charCodeAt(33) << 16)] as Change);
    const m0 = this.misses;
    const t0 = performance.now();
    const update = updateTree(this, this._root, version, sorted);
    if (process.env.GW_DEBUG_DB) {
      console.error(`tree v${version}: changes=${sorted.length} new=${update.newNodes.length} stale=${update.stale.length} misses=${this.misses - m0} ms=${(performance.now() - t0).toFixed(0)}`);
    }
    const ops: WriteOp[] = [];
    for (const n of update.newNodes) {
      ops.push({ table: this.nodes, key: n.nodeKey, value: n.encoded });
    }
    for (const c of list) ops.push({ table: this.values, key: c.key, value: c.value ?? undefined });
    ops.push({ table: this.roots, key: u64be(version), value: encodeRoot(update.root) });
    if (update.stale.length > 0) ops.push({ table: this.stale, key: u64be(version), value: packKeys(update.stale) });
    ops.push({ table: this.meta, key: META_VERSION, value: u64be(version) });
    return { version, rootHash: update.rootHash, ops, update, changes };
  }

  /** Marks a prepared commit as written (call after its ops are durable). */
  committed(p: PreparedCommit): void {
    for (const n of p.update.newNodes) if (n.node.type === 'internal') this.cache.set(toKeyString(n.nodeKey), n.node);
    this._version = p.version;
    this._root = p.update.root;
  }

  /** Persists a prepared commit on its own (the embedded node adds its block writes instead). */
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
      for (const nk of unpackKeys(fromBuffer(value))) {
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

  /** Root hash recomputed as a sanity check against a stored one. */
  matches(version: number, hash: Bytes): boolean {
    const h = this.rootHashAt(version);
    return h !== undefined && equals(h, hash);
  }
}

function packKeys(keys: Bytes[]): Bytes {
  let n = 0;
  for (const k of keys) n += 1 + k.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const k of keys) {
    out[o++] = k.length;
    out.set(k, o);
    o += k.length;
  }
  return out;
}

function unpackKeys(b: Bytes): Bytes[] {
  const out: Bytes[] = [];
  for (let o = 0; o < b.length; ) {
    const n = b[o++] as number;
    out.push(b.subarray(o, o + n));
    o += n;
  }
  return out;
}
