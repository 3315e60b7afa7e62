/**
 * StateStore persistence with a lagged values table: random versions of changes (writes,
 * overwrites, deletions) against a model, the root against the tree's definition and against
 * a store built in one go, then a close and reopen between flushes, so the unflushed changes
 * must come back from the changesets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, fromKeyString, toHex, toKeyString, type Bytes } from '../core/bytes.js';
import { referenceTreeRoot, tempDir } from '../testkit/index.js';
import { Database } from './db.js';
import { checkProof, decodeProof, encodeProof } from './proof.js';
import { StateStore, type PreparedCommit } from './store.js';
import { MAX_KEY_BYTES, Overlay, type KVReader } from './overlay.js';
import { InvariantError } from '../core/errors.js';

const FLUSH_EVERY = 50;
const STORE_OPTS = { flushEvery: FLUSH_EVERY, nodeCacheSize: 1000 };

/** mulberry32: a small seeded PRNG, so a failure reproduces from its seed. */
function prng(seed: number): { int(n: number): number; chance(p: number): boolean; bytes(min: number, max: number): Uint8Array } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    int,
    chance: (p) => next() < p,
    bytes(min, max) {
      const out = new Uint8Array(min + int(max - min + 1));
      // Favour the byte values where latin1 strings and byte order could disagree.
      const special = [0x00, 0x01, 0x2f, 0x7f, 0x80, 0xc3, 0xfe, 0xff];
      for (let i = 0; i < out.length; i++) out[i] = int(3) === 0 ? (special[int(special.length)] as number) : int(256);
      return out;
    },
  };
}

type Rng = ReturnType<typeof prng>;

/** Non-empty keys (LMDB refuses empty keys) with shared prefixes and prefixes of each other. */
function keyPool(rng: Rng, n: number): string[] {
  const prefixes = ['', 'a', 'a\x00', 'ab', 'bank/acct/', 'bank/acct/\xff', '\x00', '\xff', '\xff\xff', 'params/'];
  const out = new Set<string>(['a', 'ab', 'b', '\x00', '\xff']);
  while (out.size < n) {
    const k = (prefixes[rng.int(prefixes.length)] as string) + toKeyString(rng.bytes(0, 12));
    if (k.length > 0) out.add(k);
  }
  return [...out];
}

/** The root by the tree's definition, from scratch (independent of the store and updateTree). */
function referenceRoot(model: ReadonlyMap<string, Bytes>): string {
  return toHex(referenceTreeRoot([...model].map(([k, v]) => [fromKeyString(k), v] as const)));
}

/** Root of a brand-new store holding `model` written as a single version. */
async function freshStoreRoot(model: ReadonlyMap<string, Bytes>): Promise<string> {
  const dir = tempDir('gw-store-fresh-');
  const db = new Database(dir.path, { noSync: true });
  try {
    const s = new StateStore(db, STORE_OPTS);
    await s.commit(s.prepare(0, new Map(model)));
    return toHex(s.rootHash);
  } finally {
    await db.close();
    dir.cleanup();
  }
}

const hexOrUndef = (b: Bytes | undefined | null) => (b === undefined || b === null ? undefined : toHex(b));

/** The model's live entries with start <= key < end, in byte order, as hex pairs. */
function modelRange(model: ReadonlyMap<string, Bytes>, start: string, end: string | undefined): string[][] {
  return [...model]
    .filter(([k]) => k >= start && (end === undefined || k < end))
    .map(([k, v]) => [fromKeyString(k), v] as const)
    .sort((x, y) => compare(x[0], y[0]))
    .map(([k, v]) => [toHex(k), toHex(v)]);
}

const storeRange = (s: StateStore, start: string, end: string | undefined) =>
  [...s.iterate(fromKeyString(start), end === undefined ? undefined : fromKeyString(end))].map(([k, v]) => [toHex(k), toHex(v)]);

/** The same range through scan (transient views, converted before the callback returns). */
function scanned(r: KVReader, start: string, end: string | undefined): string[][] {
  const out: string[][] = [];
  r.scan?.(fromKeyString(start), end === undefined ? undefined : fromKeyString(end), (k, v) => out.push([toHex(k), toHex(v)]));
  return out;
}

/** A test harness: the store, its model, and every root and snapshot seen. */
class Harness {
  readonly model = new Map<string, Bytes>();
  readonly touched = new Set<string>();
  /** version → root hash (hex) right after its commit. */
  readonly roots = new Map<number, string>();
  /** version → model copy, for reads and proofs at old versions. */
  readonly snapshots = new Map<number, Map<string, Bytes>>();
  /** Keys changed since the last flush (mirrors the store's pending changes). */
  pending = new Set<string>();
  lastFlush = -1;
  flushes = 0;
  store: StateStore;

  constructor(
    public db: Database,
    readonly dir: string,
  ) {
    this.store = new StateStore(db, STORE_OPTS);
  }

  async commit(changes: Map<string, Bytes | null>): Promise<PreparedCommit> {
    const version = this.store.version + 1;
    const pendingBefore = this.pending.size;
    const p = this.store.prepare(version, changes);
    assert.equal(p.version, version);
    await this.store.commit(p);
    for (const [k, v] of changes) {
      this.touched.add(k);
      this.pending.add(k);
      if (v === null) this.model.delete(k);
      else this.model.set(k, v);
    }
    // The values table is brought up to date once FLUSH_EVERY changed keys are pending, and
    // not while far fewer are (the exact count may include a key changed twice).
    if (version === 0 || this.pending.size >= FLUSH_EVERY) assert.equal(p.flush, true, `version ${version} must flush`);
    if (pendingBefore + changes.size < FLUSH_EVERY && version > 0) assert.equal(p.flush, false, `version ${version} must not flush`);
    if (p.flush) {
      this.flushes++;
      this.lastFlush = version;
      this.pending = new Set();
    }
    const root = toHex(this.store.rootHash);
    this.roots.set(version, root);
    this.snapshots.set(version, new Map(this.model));
    assert.equal(this.store.version, version);
    assert.equal(toHex(p.rootHash), root);
    assert.equal(root, referenceRoot(this.model), `root at version ${version} is the tree of the model`);
    for (const k of this.touched) {
      assert.equal(hexOrUndef(this.store.get(k)), hexOrUndef(this.model.get(k)), `get(${JSON.stringify(k)}) at version ${version}`);
    }
    return p;
  }

  async reopen(): Promise<void> {
    await this.db.close();
    this.db = new Database(this.dir, { noSync: true });
    this.store = new StateStore(this.db, STORE_OPTS);
  }
}

/** Random changes over the pool: new values, overwrites, deletions, no-op writes. */
function randomChanges(rng: Rng, pool: readonly string[], model: ReadonlyMap<string, Bytes>, n: number): Map<string, Bytes | null> {
  const changes = new Map<string, Bytes | null>();
  for (let i = 0; i < n; i++) {
    const k = pool[rng.int(pool.length)] as string;
    const r = rng.int(10);
    if (r < 3) changes.set(k, null); // delete (present or not)
    else if (r === 3 && model.has(k)) changes.set(k, Uint8Array.from(model.get(k)!)); // same value again
    else changes.set(k, rng.bytes(rng.chance(0.05) ? 0 : 1, 40));
  }
  return changes;
}

/** Everything observable about the latest state and the retained versions. */
function checkStore(h: Harness, rng: Rng, pool: readonly string[], label: string): void {
  const { store, model } = h;
  const version = store.version;
  assert.equal(toHex(store.rootHash), h.roots.get(version), `${label}: root hash`);
  for (const [v, root] of h.roots) assert.equal(hexOrUndef(store.rootHashAt(v)), root, `${label}: root of version ${v}`);
  for (const k of h.touched) assert.equal(hexOrUndef(store.get(k)), hexOrUndef(model.get(k)), `${label}: get(${JSON.stringify(k)})`);
  for (const k of h.touched) assert.equal(hexOrUndef(store.get(fromKeyString(k))), hexOrUndef(model.get(k)), `${label}: get(bytes ${JSON.stringify(k)})`);

  // Full range, then random sub-ranges (bounds from the pool and arbitrary bytes).
  assert.deepEqual(storeRange(store, '', undefined), modelRange(model, '', undefined), `${label}: iterate over everything`);
  assert.deepEqual(scanned(store, '', undefined), modelRange(model, '', undefined), `${label}: scan over everything`);
  // An overlay of random pending writes (sets, overwrites, deletions) over the store: its
  // iterate and scan agree with the model of both.
  const overlay = new Overlay(store);
  const above = new Map(model);
  for (let i = 0; i < 30; i++) {
    const k = rng.chance(0.7) ? (pool[rng.int(pool.length)] as string) : toKeyString(rng.bytes(1, 4));
    if (rng.chance(0.4)) {
      overlay.delete(k);
      above.delete(k);
    } else {
      const v = rng.bytes(1, 3);
      overlay.set(k, v);
      above.set(k, v);
    }
  }
  const bound = () => (rng.chance(0.6) ? (pool[rng.int(pool.length)] as string) : toKeyString(rng.bytes(1, 3)));
  for (let i = 0; i < 40; i++) {
    let [s, e] = [bound(), bound()];
    if (s > e) [s, e] = [e, s];
    const end = rng.chance(0.2) ? undefined : e;
    const at = `[${JSON.stringify(s)}, ${JSON.stringify(end)})`;
    assert.deepEqual(storeRange(store, s, end), modelRange(model, s, end), `${label}: iterate ${at}`);
    assert.deepEqual(scanned(store, s, end), modelRange(model, s, end), `${label}: scan ${at}`);
    assert.deepEqual(scanned(overlay, s, end), modelRange(above, s, end), `${label}: overlay scan ${at}`);
    assert.deepEqual([...overlay.iterate(fromKeyString(s), end === undefined ? undefined : fromKeyString(end))].map(([k, v]) => [toHex(k), toHex(v)]), modelRange(above, s, end), `${label}: overlay iterate ${at}`);
  }

  // Proofs at the latest version: every present key, deleted keys, never-written keys.
  const root = fromHexRoot(h.roots.get(version)!);
  const absent = [...h.touched].filter((k) => !model.has(k)).slice(0, 10);
  absent.push('never-written', 'a\x00\x00\x00\x00');
  assert.ok(model.size > 0 && absent.length > 2, `${label}: keys to prove present and absent`);
  for (const k of [...model.keys(), ...absent]) {
    const key = fromKeyString(k);
    const p = store.proveAt(key, version);
    assert.ok(p, `${label}: version ${version} is provable`);
    assert.equal(toHex(p.rootHash), h.roots.get(version));
    const want = model.get(k) ?? null;
    assert.equal(hexOrUndef(p.value), hexOrUndef(want), `${label}: proven value of ${JSON.stringify(k)}`);
    const proof = decodeProof(encodeProof(p.proof));
    assert.deepEqual(checkProof(root, key, want, proof), { ok: true }, `${label}: proof of ${JSON.stringify(k)}`);
    const lie = want === null ? Uint8Array.of(1) : null;
    assert.equal(checkProof(root, key, lie, proof).ok, false, `${label}: a proof of ${JSON.stringify(k)} does not prove the opposite`);
  }

  // Older versions: values and proofs as they were then.
  for (const old of [0, Math.floor(version / 3), Math.floor((2 * version) / 3), version - 1]) {
    const snap = h.snapshots.get(old)!;
    const oldRoot = fromHexRoot(h.roots.get(old)!);
    for (const k of [...h.touched].slice(0, 60)) {
      const key = fromKeyString(k);
      const want = snap.get(k) ?? null;
      assert.equal(hexOrUndef(store.getAt(key, old)), hexOrUndef(want), `${label}: getAt(${JSON.stringify(k)}, ${old})`);
      const p = store.proveAt(key, old)!;
      assert.equal(hexOrUndef(p.value), hexOrUndef(want));
      assert.deepEqual(checkProof(oldRoot, key, want, p.proof), { ok: true }, `${label}: proof of ${JSON.stringify(k)} at ${old}`);
    }
  }
  assert.equal(store.proveAt(fromKeyString('a'), version + 1), undefined, 'a future version is not provable');
}

function fromHexRoot(hex: string): Bytes {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

for (const seed of [1, 7, 4242]) {
  test(`state store: random versions, close and reopen between flushes, continue (seed ${seed})`, { timeout: 60_000 }, async () => {
    const rng = prng(seed);
    const pool = keyPool(rng, 120);
    const dir = tempDir('gw-store-');
    const h = new Harness(new Database(dir.path, { noSync: true }), dir.path);
    try {
      // Phase 1: random versions (the first one is large, like a genesis).
      await h.commit(randomChanges(rng, pool, h.model, 80));
      for (let v = 1; v < 60; v++) await h.commit(randomChanges(rng, pool, h.model, 1 + rng.int(14)));
      assert.ok(h.flushes >= 4, `the values table was flushed several times (${h.flushes})`);
      assert.equal(await freshStoreRoot(h.model), toHex(h.store.rootHash), 'same key set, same root as a store built in one go');

      // Phase 2: make sure the store is between flushes with pending deletions, overwrites and
      // additions of keys the values table holds, then close it there.
      if (h.pending.size + 10 >= FLUSH_EVERY) {
        const big = new Map<string, Bytes | null>();
        for (const k of pool.slice(0, FLUSH_EVERY)) big.set(k, Uint8Array.of(seed & 0xff, 1));
        assert.equal((await h.commit(big)).flush, true);
      }
      const flushed = new Map(h.snapshots.get(h.lastFlush)!);
      const flushedKeys = [...flushed.keys()].filter((k) => h.model.has(k));
      assert.ok(flushedKeys.length >= 3, 'live keys in the values table');
      const [del, over, again] = flushedKeys as [string, string, string];
      const fresh = pool.find((k) => !h.touched.has(k)) ?? 'brand-new-key';
      const p1 = await h.commit(
        new Map<string, Bytes | null>([
          [del, null], // deleted, still in the values table
          [over, Uint8Array.of(0xaa, 0xbb)], // overwritten
          [fresh, Uint8Array.of(0x01)], // never seen before
          ['absent-deleted', null], // deleting what was never there
        ]),
      );
      const p2 = await h.commit(
        new Map<string, Bytes | null>([
          [fresh, Uint8Array.of(0x02)],
          ['short-lived', Uint8Array.of(0x03)],
          [again, null],
        ]),
      );
      const p3 = await h.commit(
        new Map<string, Bytes | null>([
          ['short-lived', null], // added and deleted between flushes
          [again, Uint8Array.of(0x04)], // deleted and re-added between flushes
        ]),
      );
      assert.deepEqual([p1.flush, p2.flush, p3.flush], [false, false, false], 'these versions stay unflushed');
      const closedAt = h.store.version;
      assert.ok(closedAt - h.lastFlush >= 3, 'several versions after the last flush');
      assert.equal(h.model.has(del), false);
      assert.equal(h.model.has('short-lived'), false);
      checkStore(h, rng, pool, 'before close');

      await h.reopen();
      assert.equal(h.store.version, closedAt, 'version after reopening');
      checkStore(h, rng, pool, 'after reopen');
      assert.equal(h.store.get(del), undefined, 'a deletion that was never flushed stays deleted');
      assert.equal(h.store.get('short-lived'), undefined);
      assert.equal(toHex(h.store.get(over)!), 'aabb', 'an overwrite that was never flushed is read back');

      // Phase 3: keep committing after the reopen, across more flushes.
      const flushesBefore = h.flushes;
      for (let v = 0; v < 30; v++) await h.commit(randomChanges(rng, pool, h.model, 1 + rng.int(14)));
      assert.ok(h.flushes > flushesBefore, 'flushed again after the reopen');
      assert.equal(await freshStoreRoot(h.model), toHex(h.store.rootHash), 'same key set, same root after continuing');
      checkStore(h, rng, pool, 'continued');

      // And once more from disk, wherever the flush cycle happens to be now.
      await h.reopen();
      checkStore(h, rng, pool, 'second reopen');
    } finally {
      await h.db.close();
      dir.cleanup();
    }
  });
}

test('state keys must be 1..MAX_KEY_BYTES bytes: a bad key fails the write, not the later flush', async () => {
  const dir = tempDir('gw-store-keys-');
  const db = new Database(dir.path, { noSync: true });
  try {
    const store = new StateStore(db);
    const o = new Overlay(store);
    const v = Uint8Array.of(1);
    assert.throws(() => o.set('', v), InvariantError);
    assert.throws(() => o.set('k'.repeat(MAX_KEY_BYTES + 1), v), InvariantError);
    assert.throws(() => o.delete(new Uint8Array(0)), InvariantError);
    o.set('k'.repeat(MAX_KEY_BYTES), v);
    await store.commit(store.prepare(0, o.changes));
    assert.deepEqual(Uint8Array.from(store.get('k'.repeat(MAX_KEY_BYTES)) ?? []), v);
  } finally {
    await db.close();
    dir.cleanup();
  }
});

test('pruning: versions before keepFrom are gone, every retained version still proves every key, and the data shrinks', async () => {
  const dir = tempDir('gw-store-prune-');
  let db = new Database(dir.path, { noSync: true });
  try {
    let store = new StateStore(db, { flushEvery: 40, nodeCacheSize: 100 });
    const models: Map<string, Uint8Array>[] = [];
    const model = new Map<string, Uint8Array>();
    const keys = Array.from({ length: 120 }, (_, i) => `acct/${String(i).padStart(4, '0')}`);
    for (let v = 0; v <= 30; v++) {
      const changes = new Map<string, Uint8Array | null>();
      for (let j = 0; j < 15; j++) {
        const k = keys[(v * 37 + j * 11) % keys.length] as string;
        if ((v + j) % 7 === 3 && model.has(k)) {
          changes.set(k, null);
          model.delete(k);
        } else {
          const val = Uint8Array.of(v, j, k.length);
          changes.set(k, val);
          model.set(k, val);
        }
      }
      await store.commit(store.prepare(v, changes));
      models.push(new Map(model));
    }
    const countNodes = () => {
      let n = 0;
      for (const _ of db.table('state.nodes').getKeys()) n++;
      return n;
    };
    const before = countNodes();
    const removed = await store.prune(20);
    assert.ok(removed > 0, 'stale nodes were removed');
    assert.equal(countNodes(), before - removed);
    const check = (s: StateStore) => {
      for (let v = 0; v < 20; v++) assert.equal(s.rootAt(v), undefined, `version ${v} is pruned`);
      for (let v = 20; v <= 30; v++) {
        const root = s.rootHashAt(v);
        assert.ok(root, `version ${v} is retained`);
        const m = models[v] as Map<string, Uint8Array>;
        for (const k of keys) {
          const key = fromKeyString(k);
          const p = s.proveAt(key, v);
          assert.ok(p, `proof of ${k} at ${v}`);
          const want = m.get(k) ?? null;
          assert.deepEqual(checkProof(root, key, want, p.proof), { ok: true }, `proof of ${k} at ${v}`);
        }
      }
      for (const k of keys) assert.equal(hexOf(s.get(k)), hexOf(model.get(k)), `latest ${k}`);
    };
    check(store);
    // Pruning is idempotent, and a reopened store sees the same.
    assert.equal(await store.prune(20), 0);
    await db.close();
    db = new Database(dir.path, { noSync: true });
    store = new StateStore(db, { flushEvery: 40 });
    check(store);
  } finally {
    await db.close();
    dir.cleanup();
  }
});

function hexOf(b: Uint8Array | undefined): string | undefined {
  return b === undefined ? undefined : toHex(b);
}
