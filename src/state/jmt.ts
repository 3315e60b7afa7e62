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
 */
import { compare, equals, type Bytes } from '../core/bytes.js';
import { InvariantError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';

export const EMPTY_ROOT: Bytes = new Uint8Array(32);
const LEAF_TAG = 0x00;
const INTERNAL_TAG = 0x01;

export interface ChildRef {
  readonly hash: Bytes;
  readonly version: number;
  readonly leaf: boolean;
}

export interface InternalNode {
  readonly type: 'internal';
  /** Always 16 slots. */
  readonly children: readonly (ChildRef | undefined)[];
}

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
}

export interface NewNode {
  readonly nodeKey: Bytes;
  readonly node: TreeNode;
  readonly encoded: Bytes;
}

export interface TreeUpdate {
  readonly version: number;
  readonly root: ChildRef | null;
  readonly rootHash: Bytes;
  readonly newNodes: NewNode[];
  /** Keys of the nodes this version replaced (prunable once no retained version needs them). */
  readonly stale: Bytes[];
}

// ---- nibbles and node keys ------------------------------------------------------------------

export function nibble(keyHash: Bytes, depth: number): number {
  const b = keyHash[depth >> 1] as number;
  return depth & 1 ? b & 0x0f : b >> 4;
}

/** (version u64 BE, nibble count u8, packed nibbles): sorts by version first, so a version's nodes are contiguous. */
export function nodeKey(version: number, path: Bytes): Bytes {
  const out = new Uint8Array(9 + ((path.length + 1) >> 1));
  new DataView(out.buffer).setBigUint64(0, BigInt(version));
  out[8] = path.length;
  for (let i = 0; i < path.length; i++) {
    const n = path[i] as number;
    const o = 9 + (i >> 1);
    out[o] = (out[o] as number) | (i & 1 ? n : n << 4);
  }
  return out;
}

function childPath(path: Bytes, nib: number): Bytes {
  const p = new Uint8Array(path.length + 1);
  p.set(path);
  p[path.length] = nib;
  return p;
}

// ---- hashing and encoding -------------------------------------------------------------------

export function leafHash(keyHash: Bytes, value: Bytes): Bytes {
  const buf = new Uint8Array(33 + value.length);
  buf[0] = LEAF_TAG;
  buf.set(keyHash, 1);
  buf.set(value, 33);
  return sha256(buf);
}

/** `hashes` are the present children's hashes in nibble order. */
export function internalHash(bitmap: number, hashes: readonly Bytes[]): Bytes {
  const buf = new Uint8Array(3 + 32 * hashes.length);
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

function internalHashOf(children: readonly (ChildRef | undefined)[]): Bytes {
  let bitmap = 0;
  const hashes: Bytes[] = [];
  for (let i = 0; i < 16; i++) {
    const c = children[i];
    if (c) {
      bitmap |= 1 << (15 - i);
      hashes.push(c.hash);
    }
  }
  return internalHash(bitmap, hashes);
}

/**
 * Node encoding (storage only; not part of any hash):
 *   internal: 0x01 | bitmap u16 | leafmap u16 | per present child: version u64 | hash 32
 *   leaf:     0x02 | keyHash 32 | key length u32 | key | value (to the end)
 */
export function encodeNode(node: TreeNode): Bytes {
  if (node.type === 'leaf') {
    const out = new Uint8Array(1 + 32 + 4 + node.key.length + node.value.length);
    const dv = new DataView(out.buffer);
    out[0] = 2;
    out.set(node.keyHash, 1);
    dv.setUint32(33, node.key.length);
    out.set(node.key, 37);
    out.set(node.value, 37 + node.key.length);
    return out;
  }
  let n = 0;
  for (const c of node.children) if (c) n++;
  const out = new Uint8Array(5 + 40 * n);
  const dv = new DataView(out.buffer);
  out[0] = 1;
  let bitmap = 0;
  let leafmap = 0;
  let o = 5;
  for (let i = 0; i < 16; i++) {
    const c = node.children[i];
    if (!c) continue;
    bitmap |= 1 << (15 - i);
    if (c.leaf) leafmap |= 1 << (15 - i);
    dv.setBigUint64(o, BigInt(c.version));
    out.set(c.hash, o + 8);
    o += 40;
  }
  dv.setUint16(1, bitmap);
  dv.setUint16(3, leafmap);
  return out;
}

export function decodeNode(b: Bytes): TreeNode {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b[0] === 2) {
    const keyLen = dv.getUint32(33);
    return {
      type: 'leaf',
      keyHash: b.subarray(1, 33),
      key: b.subarray(37, 37 + keyLen),
      value: b.subarray(37 + keyLen),
    };
  }
  if (b[0] !== 1) throw new InvariantError(`corrupt tree node (tag ${b[0]})`);
  const bitmap = dv.getUint16(1);
  const leafmap = dv.getUint16(3);
  const children = new Array<ChildRef | undefined>(16);
  let o = 5;
  for (let i = 0; i < 16; i++) {
    const bit = 1 << (15 - i);
    if (!(bitmap & bit)) continue;
    children[i] = { version: Number(dv.getBigUint64(o)), hash: b.subarray(o + 8, o + 40), leaf: (leafmap & bit) !== 0 };
    o += 40;
  }
  return { type: 'internal', children };
}

// ---- update ---------------------------------------------------------------------------------

/** A subtree result during an update: an existing node left in place, or a node not yet written. */
type Sub = null | { kind: 'ref'; ref: ChildRef } | { kind: 'new'; node: TreeNode; hash: Bytes };

/**
 * Applies `changes` (sorted by keyHash, unique) to the tree rooted at `root`, producing the
 * nodes of `version`. Reads old nodes through `reader`; writes nothing itself.
 */
export function updateTree(reader: NodeReader, root: ChildRef | null, version: number, changes: readonly Change[]): TreeUpdate {
  for (let i = 1; i < changes.length; i++) {
    if (compare((changes[i - 1] as Change).keyHash, (changes[i] as Change).keyHash) >= 0) {
      throw new InvariantError('tree changes must be sorted by key hash and unique');
    }
  }
  const newNodes: NewNode[] = [];
  const stale: Bytes[] = [];

  const load = (ref: ChildRef, path: Bytes): TreeNode => {
    const node = reader.getNode(nodeKey(ref.version, path));
    if (!node) throw new InvariantError(`missing tree node at version ${ref.version}, depth ${path.length}`);
    return node;
  };

  const materialize = (sub: Sub, path: Bytes): ChildRef | undefined => {
    if (sub === null) return undefined;
    if (sub.kind === 'ref') return sub.ref;
    const key = nodeKey(version, path);
    newNodes.push({ nodeKey: key, node: sub.node, encoded: encodeNode(sub.node) });
    return { hash: sub.hash, version, leaf: sub.node.type === 'leaf' };
  };

  const newLeaf = (c: { keyHash: Bytes; key: Bytes; value: Bytes }): Sub => ({
    kind: 'new',
    node: { type: 'leaf', keyHash: c.keyHash, key: c.key, value: c.value },
    hash: leafHash(c.keyHash, c.value),
  });

  /** Internal node from child results; collapses to the single leaf when only one leaf remains. */
  const assemble = (subs: Sub[], path: Bytes): Sub => {
    let count = 0;
    let only = -1;
    for (let i = 0; i < 16; i++) {
      if (subs[i]) {
        count++;
        only = i;
      }
    }
    if (count === 0) return null;
    if (count === 1) {
      const s = subs[only] as Exclude<Sub, null>;
      if (s.kind === 'new' && s.node.type === 'leaf') return s;
      if (s.kind === 'ref' && s.ref.leaf) {
        // An existing leaf moves up to this prefix: rewrite it there, retire the old copy.
        const p = childPath(path, only);
        const node = load(s.ref, p);
        stale.push(nodeKey(s.ref.version, p));
        return { kind: 'new', node, hash: s.ref.hash };
      }
    }
    const children = new Array<ChildRef | undefined>(16);
    for (let i = 0; i < 16; i++) {
      const s = subs[i];
      if (s) children[i] = materialize(s, childPath(path, i));
    }
    const node: InternalNode = { type: 'internal', children };
    return { kind: 'new', node, hash: internalHashOf(children) };
  };

  type Leaf = { keyHash: Bytes; key: Bytes; value: Bytes };

  /** A fresh subtree holding exactly `leaves` (sorted, unique). */
  const build = (leaves: Leaf[], path: Bytes): Sub => {
    if (leaves.length === 0) return null;
    if (leaves.length === 1) return newLeaf(leaves[0] as Leaf);
    const depth = path.length;
    const subs = new Array<Sub>(16).fill(null);
    let i = 0;
    while (i < leaves.length) {
      const nib = nibble((leaves[i] as Leaf).keyHash, depth);
      let j = i + 1;
      while (j < leaves.length && nibble((leaves[j] as Leaf).keyHash, depth) === nib) j++;
      subs[nib] = build(leaves.slice(i, j), childPath(path, nib));
      i = j;
    }
    return assemble(subs, path);
  };

  const upd = (ref: ChildRef | undefined, path: Bytes, lo: number, hi: number): Sub => {
    if (!ref) {
      const leaves: Leaf[] = [];
      for (let i = lo; i < hi; i++) {
        const c = changes[i] as Change;
        if (c.value !== null) leaves.push(c as Leaf);
      }
      return build(leaves, path);
    }
    if (ref.leaf) {
      const existing = load(ref, path) as LeafNode;
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
      if (!touched) return { kind: 'ref', ref };
      stale.push(nodeKey(ref.version, path));
      return build(leaves, path);
    }
    const node = load(ref, path) as InternalNode;
    const depth = path.length;
    const subs: Sub[] = new Array<Sub>(16);
    for (let i = 0; i < 16; i++) {
      const c = node.children[i];
      subs[i] = c ? { kind: 'ref', ref: c } : null;
    }
    let changed = false;
    let i = lo;
    while (i < hi) {
      const nib = nibble((changes[i] as Change).keyHash, depth);
      let j = i + 1;
      while (j < hi && nibble((changes[j] as Change).keyHash, depth) === nib) j++;
      const before = node.children[nib];
      const after = upd(before, childPath(path, nib), i, j);
      if (!(after === null ? before === undefined : after.kind === 'ref' && after.ref === before)) {
        changed = true;
        subs[nib] = after;
      }
      i = j;
    }
    if (!changed) return { kind: 'ref', ref };
    stale.push(nodeKey(ref.version, path));
    return assemble(subs, path);
  };

  const top = changes.length === 0 ? (root ? ({ kind: 'ref', ref: root } as Sub) : null) : upd(root ?? undefined, new Uint8Array(0), 0, changes.length);
  const newRoot = materialize(top, new Uint8Array(0)) ?? null;
  return { version, root: newRoot, rootHash: newRoot ? newRoot.hash : EMPTY_ROOT, newNodes, stale };
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
  let path: Bytes = new Uint8Array(0);
  for (;;) {
    if (!ref) return { value: null, proof: { steps, terminal: { type: 'empty' } } };
    const node = reader.getNode(nodeKey(ref.version, path));
    if (!node) throw new InvariantError(`missing tree node at version ${ref.version}, depth ${path.length}`);
    if (node.type === 'leaf') {
      const present = equals(node.keyHash, keyHash);
      return {
        value: present ? node.value : null,
        proof: { steps, terminal: { type: 'leaf', keyHash: node.keyHash, value: node.value } },
      };
    }
    const nib = nibble(keyHash, path.length);
    let bitmap = 0;
    const siblings: Bytes[] = [];
    for (let i = 0; i < 16; i++) {
      const c = node.children[i];
      if (!c) continue;
      bitmap |= 1 << (15 - i);
      if (i !== nib) siblings.push(c.hash);
    }
    steps.push({ bitmap, siblings });
    ref = node.children[nib];
    path = childPath(path, nib);
  }
}

/** Reads `key` at the tree rooted at `root` (any retained version), without building a proof. */
export function getValue(reader: NodeReader, root: ChildRef | null, key: Bytes): Bytes | null {
  const keyHash = sha256(key);
  let ref: ChildRef | undefined = root ?? undefined;
  let path: Bytes = new Uint8Array(0);
  for (;;) {
    if (!ref) return null;
    const node = reader.getNode(nodeKey(ref.version, path));
    if (!node) throw new InvariantError(`missing tree node at version ${ref.version}, depth ${path.length}`);
    if (node.type === 'leaf') return equals(node.keyHash, keyHash) ? node.value : null;
    const nib = nibble(keyHash, path.length);
    ref = node.children[nib];
    path = childPath(path, nib);
  }
}
