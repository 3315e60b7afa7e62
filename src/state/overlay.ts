/**
 * Layered key-value views over the committed state. A block runs in one Overlay over the store;
 * each transaction runs in a child Overlay that is merged into the block's on success and
 * dropped on failure (checkpoint → commit/revert). Reads fall through the layers.
 */
import { compare, fromKeyString, toKeyString, type Bytes } from '../core/bytes.js';

export interface KVReader {
  get(key: Bytes): Bytes | undefined;
  /** Entries with start <= key < end (end undefined: to the end), in key order. */
  iterate(start: Bytes, end: Bytes | undefined): IterableIterator<[Bytes, Bytes]>;
}

export interface KVStore extends KVReader {
  set(key: Bytes, value: Bytes): void;
  delete(key: Bytes): void;
}

export class Overlay implements KVStore {
  /** key string → value, or null for a deletion. */
  private readonly writes = new Map<string, Bytes | null>();

  constructor(private readonly parent: KVReader) {}

  get(key: Bytes): Bytes | undefined {
    const w = this.writes.get(toKeyString(key));
    if (w !== undefined) return w === null ? undefined : w;
    return this.parent.get(key);
  }

  set(key: Bytes, value: Bytes): void {
    this.writes.set(toKeyString(key), value);
  }

  delete(key: Bytes): void {
    this.writes.set(toKeyString(key), null);
  }

  *iterate(start: Bytes, end: Bytes | undefined): IterableIterator<[Bytes, Bytes]> {
    const s = toKeyString(start);
    const e = end === undefined ? undefined : toKeyString(end);
    const mine = [...this.writes].filter(([k]) => k >= s && (e === undefined || k < e)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    let i = 0;
    for (const [k, v] of this.parent.iterate(start, end)) {
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

  /** Moves this layer's writes into `target` (the parent it was created over). */
  mergeInto(target: Overlay): void {
    for (const [k, v] of this.writes) target.writes.set(k, v);
  }

  get changes(): ReadonlyMap<string, Bytes | null> {
    return this.writes;
  }

  get size(): number {
    return this.writes.size;
  }
}

/** A store with nothing in it (genesis starts from here). */
export const EMPTY_STORE: KVReader = {
  get: () => undefined,
  *iterate() {},
};

export function keyCompare(a: Bytes, b: Bytes): number {
  return compare(a, b);
}
