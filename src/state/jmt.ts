/**
 * A versioned 16-ary sparse Merkle tree over hashed keys (the Jellyfish Merkle Tree design used
 * by Diem/Aptos), the structure behind the app hash.
 *
 * Shape (canonical: it depends only on the set of keys, never on update order or batching):
 * - a key lives at path H(key), read as 64 nibbles;
 * - a subtree holding exactly one key is a leaf, placed at the shortest prefix no other key has;
 * - a subtree holding two or more keys is an internal node with up to 16 children.
 *
 * Hashes (domain-separated so a leaf can never pass for an internal node):
 * - leaf:     SHA-256(0x00 || keyHash || value)
 * - internal: SHA-256(0x01 || bitmap_u16 || hash of each present child, in nibble order)
 * - empty tree: 32 zero bytes.
 *
 * Storage: every node written at version v is stored under (v, nibble path) and never changed;
 * an update writes only the nodes on the paths of the changed keys, so commit cost is
 * changed keys × depth (depth ≈ log16(state size)), not the state size. Nodes replaced at v are
 * listed as stale at v so old versions can be pruned.
 *
 * Internal nodes stay in their stored byte form in memory (no per-child objects): an update
 * copies the 40-byte entries of unchanged children and writes only the changed ones. This keeps
 * the update allocation-light, which is what bounds it in practice.
 */
import { compare, equals, type Bytes } from '../core/bytes.js';
import { InvariantError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';

export const EMPTY_ROOT: Bytes = new Uint8Array(32);
const LEAF_TAG = 0x00;
const INTERNAL_TAG = 0x01;
// Internal node layout: tag | bitmap u16 | hashes (32 × n) | leafmap u16 | versions (u64 × n).
// The first 3 + 32n bytes are exactly the hash preimage, so hashing needs no copy.
const HASHES = 3;
const hashesEnd = (n: number): number => HASHES + 32 * n;
const internalSize = (n: number): number => HASHES + 40 * n + 2;

export interface ChildRef {
  readonly hash: Bytes;
  readonly version: number;
  readonly leaf: boolean;
}

/**
 * Stored form: 0x01 | bitmap u16 | child hashes (32 each, nibble order) | leafmap u16 | child
 * versions (u64 each, nibble order). Bit (15 - i) of the bitmap is nibble i; the leafmap marks
 * children that are leaves. The prefix up to the hashes' end is the node's hash preimage.
 */
export interface InternalNode {
  readonly type: 'internal';
  readonly bytes: Bytes;
  /**
   * In the in-memory latest tree only: the internal children already in memory, by nibble
   * (immutable once built; versions share unchanged subtrees).
   */
  readonly kids?: ReadonlyArray<InternalNode | undefined>;
}

/** Stored form: 0x02 | keyHash 32 | key length u32 | key | value (to the end). */
export interface LeafNode {
  readonly type: 'leaf';
  readonly keyHash: Bytes;
  readonly key: Bytes;
  readonly value: Bytes;
}

export type TreeNode = InternalNode | LeafNode;

export interface NodeReader {
  /** The node stored under `nodeKey`, or undefined if there is none. */
  getNode(nodeKey: Bytes): TreeNode | undefined;
}

export interface Change {
  readonly keyHash: Bytes;
  readonly key: Bytes;
  /** null deletes the key. */
  readonly value: Bytes | null;
  /**
   * The key is known to be in the tree already (the caller read it). Lets the update replace
   * its leaf without loading it: the leaf on a present key's path is that key's leaf.
   */
  readonly existed?: boolean;
}

export interface NewNode {
  readonly nodeKey: Bytes;
  readonly node: TreeNode;
  readonly encoded: Bytes;
}

export interface TreeUpdate {
  readonly version: number;
  readonly root: ChildRef | null;
  /** The new root as an in-memory node (when it is internal). */
  readonly rootNode: InternalNode | undefined;
  readonly rootHash: Bytes;
  readonly newNodes: NewNode[];
  /**
   * Keys of the nodes this version replaced (prunable once no retained version needs them),
   * packed as (u8 length, node key) repeated; see unpackNodeKeys.
   */
  readonly stale: Bytes;
  readonly staleCount: number;
}

/** Splits a packed list of node keys (TreeUpdate.stale). */
export function unpackNodeKeys(b: Bytes): Bytes[] {
  const out: Bytes[] = [];
  for (let o = 0; o < b.length; ) {
    const n = b[o++] as number;
    out.push(b.subarray(o, o + n));
    o += n;
  }
  return out;
}

/** Growable byte buffer for packed node keys (no object per key). */
class KeyPacker {
  buf = new Uint8Array(1 << 14);
  len = 0;
  count = 0;
  add(version: number, rep: Bytes, depth: number, extra = -1): void {
    const n = extra >= 0 ? depth + 1 : depth;
    const size = 9 + ((n + 1) >> 1);
    if (this.len + 1 + size > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + 1 + size));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    const out = this.buf;
    let o = this.len;
    out[o++] = size;
    putVersion(out, o, version);
    out[o + 8] = n;
    const full = depth >> 1;
    for (let i = 0; i < full; i++) out[o + 9 + i] = rep[i] as number;
    if (depth & 1) out[o + 9 + full] = (rep[full] as number) & 0xf0;
    else if (n > depth) out[o + 9 + full] = 0;
    if (extra >= 0) {
      const q = o + 9 + full;
      out[q] = depth & 1 ? (out[q] as number) | extra : extra << 4;
    }
    this.len += 1 + size;
    this.count++;
  }
}

// ---- nibbles and node keys ------------------------------------------------------------------

export function nibble(keyHash: Bytes, depth: number): number {
  const b = keyHash[depth >> 1] as number;
  return depth & 1 ? b & 0x0f : b >> 4;
}

function putVersion(out: Uint8Array, o: number, version: number): void {
  const hi = Math.floor(version / 0x1_0000_0000);
  const lo = version >>> 0;
  out[o] = hi >>> 24;
  out[o + 1] = (hi >>> 16) & 0xff;
  out[o + 2] = (hi >>> 8) & 0xff;
  out[o + 3] = hi & 0xff;
  out[o + 4] = lo >>> 24;
  out[o + 5] = (lo >>> 16) & 0xff;
  out[o + 6] = (lo >>> 8) & 0xff;
  out[o + 7] = lo & 0xff;
}

function getVersion(b: Bytes, o: number): number {
  const hi = (((b[o] as number) << 24) >>> 0) + ((b[o + 1] as number) << 16) + ((b[o + 2] as number) << 8) + (b[o + 3] as number);
  const lo = (((b[o + 4] as number) << 24) >>> 0) + ((b[o + 5] as number) << 16) + ((b[o + 6] as number) << 8) + (b[o + 7] as number);
  return hi * 0x1_0000_0000 + lo;
}

/**
 * Storage key of the node at version `version` whose path is the first `depth` nibbles of
 * `rep` (any key hash under that node), plus `extra` when given: (version u64 BE, nibble count
 * u8, packed nibbles). Sorting by version first keeps a version's nodes contiguous.
 */
export function nodeKeyAt(version: number, rep: Bytes, depth: number, extra = -1): Bytes {
  const n = extra >= 0 ? depth + 1 : depth;
  const out = Buffer.allocUnsafe(9 + ((n + 1) >> 1));
  putVersion(out, 0, version);
  out[8] = n;
  const full = depth >> 1;
  for (let i = 0; i < full; i++) out[9 + i] = rep[i] as number;
  if (depth & 1) out[9 + full] = (rep[full] as number) & 0xf0;
  if (extra >= 0) {
    const o = 9 + full;
    out[o] = depth & 1 ? (out[o] as number) | extra : extra << 4;
  }
  return out;
}

/** Storage key of the node at `version` with an explicit nibble path. */
export function nodeKey(version: number, path: readonly number[]): Bytes {
  const rep = new Uint8Array(32);
  for (let i = 0; i < path.length; i++) {
    const n = path[i] as number;
    const o = i >> 1;
    rep[o] = (rep[o] as number) | (i & 1 ? n : n << 4);
  }
  return nodeKeyAt(version, rep, path.length);
}

// ---- hashing and encoding -------------------------------------------------------------------

// Hash preimages are assembled in reusable scratch buffers (hashing is synchronous).
let scratch = Buffer.allocUnsafeSlow(4096);
function scratchOf(n: number): Buffer {
  if (n > scratch.length) scratch = Buffer.allocUnsafeSlow(Math.max(n, scratch.length * 2));
  return scratch;
}

export function leafHash(keyHash: Bytes, value: Bytes): Bytes {
  const n = 33 + value.length;
  const buf = scratchOf(n);
  buf[0] = LEAF_TAG;
  buf.set(keyHash, 1);
  buf.set(value, 33);
  return sha256(buf.subarray(0, n));
}



/** `hashes` are the present children's hashes in nibble order. */
export function internalHash(bitmap: number, hashes: readonly Bytes[]): Bytes {
  const buf = scratchOf(3 + 32 * hashes.length).subarray(0, 3 + 32 * hashes.length);
  buf[0] = INTERNAL_TAG;
  buf[1] = bitmap >> 8;
  buf[2] = bitmap & 0xff;
  let o = 3;
  for (const h of hashes) {
    buf.set(h, o);
    o += 32;
  }
  return sha256(buf);
}

function popcount16(x: number): number {
  let n = 0;
  for (let v = x & 0xffff; v; v &= v - 1) n++;
  return n;
}

export function bitmapOf(n: InternalNode): number {
  return ((n.bytes[1] as number) << 8) | (n.bytes[2] as number);
}

function childCount(n: InternalNode): number {
  return popcount16(bitmapOf(n));
}

/** Position of nibble `nib` among the present children, or -1 if that slot is empty. */
function slotIndex(bitmap: number, nib: number): number {
  if (!(bitmap & (1 << (15 - nib)))) return -1;
  // Children are in nibble order: count the present slots before this one (the higher bits).
  return popcount16(bitmap >> (16 - nib));
}

export function childAt(n: InternalNode, nib: number): ChildRef | undefined {
  const bitmap = bitmapOf(n);
  const k = slotIndex(bitmap, nib);
  if (k < 0) return undefined;
  const count = popcount16(bitmap);
  const lm = hashesEnd(count);
  const leafmap = ((n.bytes[lm] as number) << 8) | (n.bytes[lm + 1] as number);
  return {
    version: getVersion(n.bytes, lm + 2 + 8 * k),
    hash: n.bytes.subarray(HASHES + 32 * k, HASHES + 32 * k + 32),
    leaf: (leafmap & (1 << (15 - nib))) !== 0,
  };
}

/** Hashes of the node's present children, in nibble order. */
export function childHashes(n: InternalNode): Bytes[] {
  const count = childCount(n);
  const out: Bytes[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = n.bytes.subarray(HASHES + 32 * i, HASHES + 32 * i + 32);
  return out;
}

export function encodeNode(node: TreeNode): Bytes {
  if (node.type === 'internal') return node.bytes;
  const out = Buffer.allocUnsafe(1 + 32 + 4 + node.key.length + node.value.length);
  out[0] = 2;
  out.set(node.keyHash, 1);
  out.writeUInt32BE(node.key.length, 33);
  out.set(node.key, 37);
  out.set(node.value, 37 + node.key.length);
  return out;
}

export function decodeNode(b: Bytes): TreeNode {
  if (b[0] === 2) {
    const keyLen = (((b[33] as number) << 24) >>> 0) + ((b[34] as number) << 16) + ((b[35] as number) << 8) + (b[36] as number);
    return { type: 'leaf', keyHash: b.subarray(1, 33), key: b.subarray(37, 37 + keyLen), value: b.subarray(37 + keyLen) };
  }
  if (b[0] !== 1 || b.length !== internalSize(popcount16(((b[1] as number) << 8) | (b[2] as number)))) {
    throw new InvariantError(`corrupt tree node (tag ${b[0]}, ${b.length} bytes)`);
  }
  return { type: 'internal', bytes: b };
}

// ---- update ---------------------------------------------------------------------------------

/**
 * Copies the hashes and versions of old slots [from, to) (old leafmap at `oldLm`) to new slots
 * starting at `at` (new leafmap at `lm`): hashes and versions are each contiguous. Plain loops:
 * a subarray per copy would be two short-lived objects per run.
 */
function copyRun(src: Uint8Array, oldLm: number, from: number, to: number, dst: Uint8Array, lm: number, at: number): void {
  for (let i = HASHES + 32 * from, j = HASHES + 32 * at, e = HASHES + 32 * to; i < e; i++, j++) dst[j] = src[i] as number;
  for (let i = oldLm + 2 + 8 * from, j = lm + 2 + 8 * at, e = oldLm + 2 + 8 * to; i < e; i++, j++) dst[j] = src[i] as number;
}

/**
 * A subtree result during an update: an existing node left in place, or a node not yet written
 * (with `rep`, a key hash under it, which locates it).
 */
type NewSub = { kind: 'new'; node: TreeNode; hash: Bytes; rep: Bytes };
/** An existing subtree left as it was. */
const UNCHANGED = { kind: 'unchanged' } as const;
type Sub = null | typeof UNCHANGED | NewSub;

type Leaf = { keyHash: Bytes; key: Bytes; value: Bytes };

/**
 * Applies `changes` (sorted by keyHash, unique) to the tree rooted at `root`, producing the
 * nodes of `version`. Reads old nodes through `reader`; writes nothing itself.
 *
 * A node's path is always the prefix of some key hash passing through it, so paths are carried
 * as (representative key hash, depth) rather than built nibble by nibble.
 */
export interface MemoryBudget {
  /** Internal nodes the in-memory tree may still gain (decremented as it grows). */
  remaining: number;
}

export function updateTree(
  reader: NodeReader,
  root: ChildRef | null,
  version: number,
  changes: readonly Change[],
  /** The latest root held in memory, with its linked subtrees; omit to read every node. */
  rootNode?: InternalNode,
  budget: MemoryBudget = { remaining: 0 },
): TreeUpdate {
  for (let i = 1; i < changes.length; i++) {
    if (compare((changes[i - 1] as Change).keyHash, (changes[i] as Change).keyHash) >= 0) {
      throw new InvariantError('tree changes must be sorted by key hash and unique');
    }
  }
  const newNodes: NewNode[] = [];
  const stale = new KeyPacker();

  const load = (key: Bytes): TreeNode => {
    const node = reader.getNode(key);
    if (!node) throw new InvariantError(`missing tree node ${Buffer.from(key).toString('hex')}`);
    return node;
  };

  const newLeaf = (c: Leaf): Sub => ({
    kind: 'new',
    node: { type: 'leaf', keyHash: c.keyHash, key: c.key, value: c.value },
    hash: leafHash(c.keyHash, c.value),
    rep: c.keyHash,
  });

  /**
   * The node at (rep, depth) whose children are `old`'s children with `subs` applied
   * (`subs[i]` undefined: unchanged; null: removed; otherwise the new child). Collapses to the
   * single leaf when only one leaf remains below it; null when nothing remains.
   */
  const assemble = (old: InternalNode | undefined, subs: (Sub | undefined)[], rep: Bytes, depth: number): Sub => {
    const oldKids = old?.kids;
    // Only nodes with internal children in memory get a kids array (most deep nodes have none).
    let kids: Array<InternalNode | undefined> | undefined;
    const oldBitmap = old ? bitmapOf(old) : 0;
    let bitmap = 0;
    let count = 0;
    let only = -1;
    for (let i = 0; i < 16; i++) {
      const s = subs[i];
      const present = s === undefined ? (oldBitmap & (1 << (15 - i))) !== 0 : s !== null;
      if (present) {
        bitmap |= 1 << (15 - i);
        count++;
        only = i;
      }
    }
    if (count === 0) return null;
    if (count === 1) {
      const s = subs[only];
      if (s && s.kind === 'new' && s.node.type === 'leaf') return s;
      const ref = s === undefined ? childAt(old as InternalNode, only) : undefined;
      if (ref && ref.leaf) {
        // An existing leaf moves up to this prefix: rewrite it there, retire the old copy.
        const node = load(nodeKeyAt(ref.version, rep, depth, only)) as LeafNode;
        stale.add(ref.version, rep, depth, only);
        return { kind: 'new', node, hash: ref.hash, rep: node.keyHash };
      }
    }
    // From Node's buffer pool: a fresh ArrayBuffer per node costs ~1.5 µs (external memory),
    // a pool slice ~0.3 µs. A pool chunk lives as long as its longest-lived node; nodes of one
    // update are replaced within a few blocks of each other, so the overhead stays small.
    // Every byte is written below (tag, bitmap, each slot's hash and version, leafmap).
    const bytes = Buffer.allocUnsafe(internalSize(count));
    bytes[0] = INTERNAL_TAG;
    bytes[1] = bitmap >> 8;
    bytes[2] = bitmap & 0xff;
    const lm = hashesEnd(count);
    const ob = old?.bytes;
    const oldLm = old ? hashesEnd(popcount16(oldBitmap)) : 0;
    const oldLeafmap = ob ? ((ob[oldLm] as number) << 8) | (ob[oldLm + 1] as number) : 0;
    let leafmap = 0;
    let k = 0; // slot in the new node
    let ok = 0; // slot in the old node
    let childRep: Bytes = rep;
    // Unchanged children are copied in runs: hashes and versions are each contiguous.
    let runFrom = -1; // old slot where the current run of unchanged children starts
    let runTo = 0; // new slot where it lands
    for (let i = 0; i < 16; i++) {
      const bit = 1 << (15 - i);
      const hadOld = (oldBitmap & bit) !== 0;
      const s = subs[i];
      if (s === undefined) {
        if (hadOld) {
          const kept = oldKids?.[i];
          if (kept) (kids ??= new Array<InternalNode | undefined>(16))[i] = kept;
          if (runFrom < 0) {
            runFrom = ok;
            runTo = k;
          }
          if (oldLeafmap & bit) leafmap |= bit;
          k++;
        }
      } else {
        if (runFrom >= 0) {
          copyRun(ob as Uint8Array, oldLm, runFrom, ok, bytes, lm, runTo);
          runFrom = -1;
        }
        if (s !== null && s.kind === 'new') {
          const ver = version;
          const hash = s.hash;
          const leaf = s.node.type === 'leaf';
          {
            childRep = s.rep;
            newNodes.push({ nodeKey: nodeKeyAt(version, s.rep, depth + 1), node: s.node, encoded: encodeNode(s.node) });
            if (!leaf) {
              // Keep the new child in memory if it replaces one that was, or the budget allows.
              if (oldKids?.[i] !== undefined) (kids ??= new Array<InternalNode | undefined>(16))[i] = s.node as InternalNode;
              else if (budget.remaining > 0) {
                budget.remaining--;
                (kids ??= new Array<InternalNode | undefined>(16))[i] = s.node as InternalNode;
              }
            }
          }
          bytes.set(hash, HASHES + 32 * k);
          putVersion(bytes, lm + 2 + 8 * k, ver);
          if (leaf) leafmap |= bit;
          k++;
        }
      }
      if (hadOld) ok++;
    }
    if (runFrom >= 0) copyRun(ob as Uint8Array, oldLm, runFrom, ok, bytes, lm, runTo);
    bytes[lm] = leafmap >> 8;
    bytes[lm + 1] = leafmap & 0xff;
    const node: InternalNode = kids ? { type: 'internal', bytes, kids } : { type: 'internal', bytes };
    return { kind: 'new', node, hash: sha256(bytes.subarray(0, lm)), rep: childRep };
  };

  /** A fresh subtree holding exactly `leaves[lo, hi)` (sorted, unique), at `depth`. */
  const build = (leaves: Leaf[], lo: number, hi: number, depth: number): Sub => {
    if (hi - lo === 0) return null;
    if (hi - lo === 1) return newLeaf(leaves[lo] as Leaf);
    const subs: (Sub | undefined)[] = new Array(16).fill(null);
    let i = lo;
    while (i < hi) {
      const nib = nibble((leaves[i] as Leaf).keyHash, depth);
      let j = i + 1;
      while (j < hi && nibble((leaves[j] as Leaf).keyHash, depth) === nib) j++;
      subs[nib] = build(leaves, i, j, depth + 1);
      i = j;
    }
    return assemble(undefined, subs, (leaves[lo] as Leaf).keyHash, depth);
  };

  /**
   * Applies changes[lo, hi) (all sharing the first `depth` nibbles) to the subtree whose root
   * was written at `ver` (-1: empty slot) and is a leaf or not (`mem`: the same node, if it is
   * in memory).
   */
  const upd = (ver: number, leaf: boolean, mem: InternalNode | undefined, depth: number, lo: number, hi: number): Sub => {
    const first = changes[lo] as Change;
    const rep = first.keyHash;
    if (ver < 0) {
      const leaves: Leaf[] = [];
      for (let i = lo; i < hi; i++) {
        const c = changes[i] as Change;
        if (c.value !== null) leaves.push(c as Leaf);
      }
      const b = build(leaves, 0, leaves.length, depth);
      return b;
    }
    if (leaf) {
      if (hi - lo === 1 && first.existed) {
        // The leaf here is this key's own leaf: replace or remove it without reading it.
        stale.add(ver, rep, depth);
        return first.value === null ? null : newLeaf(first as Leaf);
      }
      const existing = load(nodeKeyAt(ver, rep, depth)) as LeafNode;
      const leaves: Leaf[] = [];
      let touched = false;
      let placed = false;
      for (let i = lo; i < hi; i++) {
        const c = changes[i] as Change;
        const cmp = compare(c.keyHash, existing.keyHash);
        if (cmp === 0) {
          placed = true;
          if (c.value === null) touched = true;
          else {
            if (!equals(c.value, existing.value)) touched = true;
            leaves.push(c as Leaf);
          }
          continue;
        }
        if (cmp > 0 && !placed) {
          leaves.push(existing);
          placed = true;
        }
        if (c.value !== null) {
          leaves.push(c as Leaf);
          touched = true;
        }
      }
      if (!placed) leaves.push(existing);
      if (!touched) return UNCHANGED;
      stale.add(ver, rep, depth);
      return build(leaves, 0, leaves.length, depth);
    }
    const node = mem ?? (load(nodeKeyAt(ver, rep, depth)) as InternalNode);
    const bitmap = bitmapOf(node);
    const count = popcount16(bitmap);
    const lm = hashesEnd(count);
    const leafmap = ((node.bytes[lm] as number) << 8) | (node.bytes[lm + 1] as number);
    const subs: (Sub | undefined)[] = new Array(16);
    let changed = false;
    let i = lo;
    while (i < hi) {
      const nib = nibble((changes[i] as Change).keyHash, depth);
      let j = i + 1;
      while (j < hi && nibble((changes[j] as Change).keyHash, depth) === nib) j++;
      const k = slotIndex(bitmap, nib);
      const after = k < 0 ? upd(-1, false, undefined, depth + 1, i, j) : upd(getVersion(node.bytes, lm + 2 + 8 * k), (leafmap & (1 << (15 - nib))) !== 0, node.kids?.[nib], depth + 1, i, j);
      if (after === null ? k >= 0 : after.kind === 'new') {
        changed = true;
        subs[nib] = after;
      }
      i = j;
    }
    if (!changed) return UNCHANGED;
    stale.add(ver, rep, depth);
    return assemble(node, subs, rep, depth);
  };

  let top: Sub;
  if (changes.length === 0 || (!root && changes.every((c) => c.value === null))) top = UNCHANGED;
  else top = upd(root ? root.version : -1, root ? root.leaf : false, rootNode, 0, 0, changes.length);
  let newRoot: ChildRef | null = null;
  let newRootNode: InternalNode | undefined;
  if (top === UNCHANGED) {
    newRoot = root;
    newRootNode = rootNode;
  } else if (top?.kind === 'new') {
    newNodes.push({ nodeKey: nodeKeyAt(version, top.rep, 0), node: top.node, encoded: encodeNode(top.node) });
    newRoot = { hash: top.hash, version, leaf: top.node.type === 'leaf' };
    if (top.node.type === 'internal') newRootNode = top.node;
  }
  return {
    version,
    root: newRoot,
    rootNode: newRootNode,
    rootHash: newRoot ? newRoot.hash : EMPTY_ROOT,
    newNodes,
    stale: stale.buf.subarray(0, stale.len),
    staleCount: stale.count,
  };
}

// ---- reads and proofs -----------------------------------------------------------------------

export interface ProofStep {
  /** Which of the node's 16 slots are occupied (bit 15 - i for nibble i). */
  readonly bitmap: number;
  /** Hashes of the occupied slots other than the one on the path, in nibble order. */
  readonly siblings: Bytes[];
}

export type ProofTerminal =
  | { readonly type: 'leaf'; readonly keyHash: Bytes; readonly value: Bytes }
  | { readonly type: 'empty' };

/**
 * A path from the root to where the key is or would be. If the terminal is a leaf with the
 * key's hash, the key is present with that value; a leaf with another hash, or an empty slot,
 * proves absence.
 */
export interface StateProof {
  readonly steps: ProofStep[];
  readonly terminal: ProofTerminal;
}

export interface ProvenValue {
  readonly value: Bytes | null;
  readonly proof: StateProof;
}

/** Looks `key` up at the tree rooted at `root` and returns its value with a proof. */
export function prove(reader: NodeReader, root: ChildRef | null, key: Bytes): ProvenValue {
  const keyHash = sha256(key);
  const steps: ProofStep[] = [];
  let ref: ChildRef | undefined = root ?? undefined;
  for (let depth = 0; ; depth++) {
    if (!ref) return { value: null, proof: { steps, terminal: { type: 'empty' } } };
    const node = reader.getNode(nodeKeyAt(ref.version, keyHash, depth));
    if (!node) throw new InvariantError(`missing tree node at version ${ref.version}, depth ${depth}`);
    if (node.type === 'leaf') {
      const present = equals(node.keyHash, keyHash);
      return {
        value: present ? node.value : null,
        proof: { steps, terminal: { type: 'leaf', keyHash: node.keyHash, value: node.value } },
      };
    }
    const nib = nibble(keyHash, depth);
    const bitmap = bitmapOf(node);
    const hashes = childHashes(node);
    const self = (bitmap & (1 << (15 - nib))) !== 0 ? popcount16(bitmap >> (16 - nib)) : -1;
    steps.push({ bitmap, siblings: hashes.filter((_, i) => i !== self) });
    ref = childAt(node, nib);
  }
}

/** Reads `key` at the tree rooted at `root` (any retained version), without building a proof. */
export function getValue(reader: NodeReader, root: ChildRef | null, key: Bytes): Bytes | null {
  const keyHash = sha256(key);
  let ref: ChildRef | undefined = root ?? undefined;
  for (let depth = 0; ; depth++) {
    if (!ref) return null;
    const node = reader.getNode(nodeKeyAt(ref.version, keyHash, depth));
    if (!node) throw new InvariantError(`missing tree node at version ${ref.version}, depth ${depth}`);
    if (node.type === 'leaf') return equals(node.keyHash, keyHash) ? node.value : null;
    ref = childAt(node, nibble(keyHash, depth));
  }
}
