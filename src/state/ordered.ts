/**
 * Pending writes (key string → value) with a key-ordered index built on first need.
 *
 * A block's overlay and the store's unflushed writes are Maps: the hot path (get, set) stays a
 * hash lookup. Range scans over them need key order; sorting every pending write on each scan
 * made a block of n txs that each scan cost O(n²) (measured: minutes for 10,000 market
 * providers in one block). The index is a B+ tree (sorted-btree) created the first time a range
 * is asked for and kept up to date after that: O(log n) per new key, O(log n + k) per range.
 */
import sortedBtree from 'sorted-btree';
import type { Bytes } from '../core/bytes.js';

// sorted-btree is CommonJS: under Node's ESM loader the default import is its module.exports,
// whose `default` is the class.
const BTree = sortedBtree.default;
type Tree = InstanceType<typeof BTree<string, true>>;

export class OrderedWrites {
  readonly map = new Map<string, Bytes | null>();
  private index: Tree | undefined;

  get size(): number {
    return this.map.size;
  }

  get(ks: string): Bytes | null | undefined {
    return this.map.get(ks);
  }

  set(ks: string, v: Bytes | null): void {
    if (this.index !== undefined && !this.map.has(ks)) this.index.set(ks, true);
    this.map.set(ks, v);
  }

  delete(ks: string): void {
    if (this.map.delete(ks)) this.index?.delete(ks);
  }

  clear(): void {
    this.map.clear();
    this.index = undefined;
  }

  /** Pending entries with s <= key < e (e undefined: no bound), in key order. */
  range(s: string, e: string | undefined): [string, Bytes | null][] {
    const out: [string, Bytes | null][] = [];
    if (this.map.size === 0) return out;
    for (const k of this.ordered().keys(s)) {
      if (e !== undefined && k >= e) break;
      out.push([k, this.map.get(k) as Bytes | null]);
    }
    return out;
  }

  /** Whether any pending key lies in [s, e). */
  hasIn(s: string, e: string | undefined): boolean {
    if (this.map.size === 0) return false;
    const index = this.ordered();
    const first = index.has(s) ? s : index.nextHigherKey(s);
    return first !== undefined && (e === undefined || first < e);
  }

  private ordered(): Tree {
    this.index ??= new BTree<string, true>([...this.map.keys()].sort().map((k) => [k, true] as [string, true]));
    return this.index;
  }
}
