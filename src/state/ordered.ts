/**
 * Pending writes (key string → value) with key-ordered indexes built on first need.
 *
 * A block's overlay and the store's unflushed writes are Maps: the hot path (get, set) stays a
 * hash lookup. Range scans over them need key order; sorting every pending write on each scan
 * made a block of n txs that each scan cost O(n²) (measured: minutes for 10,000 market
 * providers in one block).
 *
 * Indexes are per partition: a state key's partition is its prefix up to its second '/'
 * (`market/b/`, `bank/acct/`: every module's tables are laid out that way). A range that lies
 * inside one partition (every prefix scan of a table) is answered from that partition's index,
 * created the first time such a range is asked for; keys of partitions nobody scans are never
 * indexed. (A matching block writes ~28 keys per order but scans only its bids: one global
 * index cost a quarter of the matching time.) Any other range (no second '/', or spanning
 * partitions) uses one global index of every key, built the same way on first need.
 *
 * An index has three parts, like an LSM tree: a big sorted array, a small sorted array, and the
 * keys added to the map since the last range (unsorted). A range first sorts those into the
 * small array (merging in place: one pass, no allocation), and merges the small array into the
 * big one when it outgrows ~√(big × mergeAt). A new key costs an array push; a range, its share
 * of the merges, two bisections and the keys it returns. (A B+ tree, tried first, cost ~2.7 µs
 * per new key with long shared key prefixes; a sorted insertion per new key and a Set of the
 * indexed keys, ~1 µs.)
 */
import type { Bytes } from '../core/bytes.js';

const MERGE_AT = 1024;
/** Partition indexes kept before every range goes to the global index (keys with many odd partitions). */
const MAX_PARTS = 32;

interface Index {
  /** The partition (undefined: the global index). */
  readonly prefix: string | undefined;
  sorted: string[];
  recent: string[];
  /** Added since the last range, unsorted. */
  fresh: string[];
  /**
   * Keys of this index deleted from the map (they stay in the index, ranges skip them): set
   * again, they are not added twice. Every key in the map is in every index it falls in.
   */
  readonly gone: Set<string>;
}

function lowerBound(a: readonly string[], k: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] as string) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < a.length && j < b.length) out[o++] = (a[i] as string) < (b[j] as string) ? (a[i++] as string) : (b[j++] as string);
  while (i < a.length) out[o++] = a[i++] as string;
  while (j < b.length) out[o++] = b[j++] as string;
  return out;
}

/** Merges sorted `b` into sorted `a` in place, from the back (only the keys of `a` above b's first move). */
function mergeInto(a: string[], b: readonly string[]): void {
  let i = a.length - 1;
  let j = b.length - 1;
  for (let n = 0; n < b.length; n++) a.push('');
  let o = a.length - 1;
  while (j >= 0) {
    if (i >= 0 && (a[i] as string) > (b[j] as string)) a[o--] = a[i--] as string;
    else a[o--] = b[j--] as string;
  }
}

/** The partition of key `k`: its prefix up to and including its second '/'; undefined if it has none. */
function partitionOf(k: string): string | undefined {
  const a = k.indexOf('/');
  if (a < 0) return undefined;
  const b = k.indexOf('/', a + 1);
  return b < 0 ? undefined : k.slice(0, b + 1);
}

export class OrderedWrites {
  readonly map = new Map<string, Bytes | null>();
  private parts: Index[] = [];
  private all: Index | undefined;

  /** `mergeAt`: the small level's base size (tests use small values to exercise merges). */
  constructor(private readonly mergeAt = MERGE_AT) {}

  get size(): number {
    return this.map.size;
  }

  get(ks: string): Bytes | null | undefined {
    return this.map.get(ks);
  }

  set(ks: string, v: Bytes | null): void {
    const map = this.map;
    const n = map.size;
    map.set(ks, v);
    // Only a key new to the map needs indexing (the size tells, without a second lookup).
    if (map.size === n) return;
    if (this.all !== undefined) add(this.all, ks);
    const parts = this.parts;
    for (let i = 0; i < parts.length; i++) {
      const ix = parts[i] as Index;
      // A key is in at most one partition.
      if (ks.startsWith(ix.prefix as string)) {
        add(ix, ks);
        break;
      }
    }
  }

  delete(ks: string): void {
    if (!this.map.delete(ks)) return;
    if (this.all !== undefined) this.all.gone.add(ks);
    for (const ix of this.parts) {
      if (ks.startsWith(ix.prefix as string)) {
        ix.gone.add(ks);
        break;
      }
    }
  }

  clear(): void {
    this.map.clear();
    this.parts = [];
    this.all = undefined;
  }

  /** Pending entries with s <= key < e (e undefined: no bound), in key order. */
  range(s: string, e: string | undefined): [string, Bytes | null][] {
    if (this.map.size === 0) return [];
    const ix = this.indexFor(s, e);
    const a = this.slice(ix.sorted, s, e);
    const b = this.slice(ix.recent, s, e);
    const all = b.length === 0 ? a : a.length === 0 ? b : mergeSorted(a, b);
    return all.map((k) => [k, this.map.get(k) as Bytes | null]);
  }

  /** Whether any pending key lies in [s, e). */
  hasIn(s: string, e: string | undefined): boolean {
    if (this.map.size === 0) return false;
    const ix = this.indexFor(s, e);
    return this.slice(ix.sorted, s, e, 1).length > 0 || this.slice(ix.recent, s, e, 1).length > 0;
  }

  /** Keys of sorted `a` in [s, e) still present in the map (at most `max`). */
  private slice(a: readonly string[], s: string, e: string | undefined, max = Infinity): string[] {
    const out: string[] = [];
    for (let i = lowerBound(a, s); i < a.length && out.length < max; i++) {
      const k = a[i] as string;
      if (e !== undefined && k >= e) break;
      if (this.map.has(k)) out.push(k);
    }
    return out;
  }

  /** The index that holds every pending key of [s, e), brought up to date. */
  private indexFor(s: string, e: string | undefined): Index {
    const p = e === undefined ? undefined : partitionOf(s);
    // Every key in [s, e) is in partition p when e <= the end of p's keys (p ends in '/': its
    // successor ends in '0').
    if (p !== undefined && (e as string) <= `${p.slice(0, -1)}0`) {
      let ix = this.parts.find((x) => x.prefix === p);
      if (ix === undefined && this.parts.length < MAX_PARTS) {
        const keys: string[] = [];
        for (const k of this.map.keys()) if (k.startsWith(p)) keys.push(k);
        ix = newIndex(p, keys);
        this.parts.push(ix);
      }
      if (ix !== undefined) return this.tidy(ix);
    }
    this.all ??= newIndex(undefined, [...this.map.keys()]);
    return this.tidy(this.all);
  }

  private tidy(ix: Index): Index {
    if (ix.fresh.length > 0) {
      const fresh = ix.fresh.sort();
      ix.fresh = [];
      mergeInto(ix.recent, fresh);
      // √(big × mergeAt): each range then pays about as much for its share of the big merges
      // as for merging its fresh keys into the small level.
      if (ix.recent.length >= Math.max(this.mergeAt, Math.sqrt(ix.sorted.length * this.mergeAt))) {
        ix.sorted = mergeSorted(ix.sorted, ix.recent);
        ix.recent = [];
      }
    }
    return ix;
  }
}

function newIndex(prefix: string | undefined, keys: string[]): Index {
  return { prefix, sorted: keys.sort(), recent: [], fresh: [], gone: new Set() };
}

function add(ix: Index, ks: string): void {
  if (ix.gone.size > 0 && ix.gone.delete(ks)) return;
  ix.fresh.push(ks);
}
