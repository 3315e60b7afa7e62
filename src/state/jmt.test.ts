import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compare, toHex, toKeyString, utf8, type Bytes } from '../core/bytes.js';
import { sha256 } from '../core/hash.js';
import {
  EMPTY_ROOT,
  decodeNode,
  getValue,
  prove,
  updateTree,
  type Change,
  type ChildRef,
  type InternalNode,
  type MemoryBudget,
  type NodeReader,
  type TreeNode,
} from './jmt.js';
import { referenceTreeRoot } from '../testkit/index.js';
import { checkProof, decodeProof, encodeProof } from './proof.js';

/** Root computed from scratch by the definition, independent of updateTree. */
function referenceRoot(entries: Map<string, Bytes>): Bytes {
  return referenceTreeRoot([...entries].map(([k, v]) => [utf8(k), v] as const));
}

class MemTree implements NodeReader {
  nodes = new Map<string, Bytes>();
  root: ChildRef | null = null;
  version = 0;
  /** With `inMemory`, updates walk the linked in-memory tree (as the store does). */
  rootNode: InternalNode | undefined;
  constructor(
    readonly inMemory = false,
    readonly budget: MemoryBudget = { remaining: 0 },
  ) {}
  getNode(key: Bytes): TreeNode | undefined {
    const b = this.nodes.get(toKeyString(key));
    return b ? decodeNode(b) : undefined;
  }
  present = new Set<string>();
  apply(batch: Map<string, Bytes | null>): ReturnType<typeof updateTree> {
    // `existed` is a hint the store gives when it knows; give it for about half the keys.
    const changes: Change[] = [...batch]
      .map(([k, v]) => ({ key: utf8(k), keyHash: sha256(utf8(k)), value: v, existed: this.present.has(k) && k.length % 2 === 0 }))
      .sort((a, b) => compare(a.keyHash, b.keyHash));
    const u = updateTree(this, this.root, ++this.version, changes, this.inMemory ? this.rootNode : undefined, this.budget);
    this.rootNode = u.rootNode;
    for (const [k, v] of batch) {
      if (v === null) this.present.delete(k);
      else this.present.add(k);
    }
    for (const n of u.newNodes) this.nodes.set(toKeyString(n.nodeKey), n.encoded);
    this.root = u.root;
    return u;
  }
}

const keyArb = fc.string({ minLength: 0, maxLength: 6 });
const valArb = fc.option(fc.uint8Array({ minLength: 0, maxLength: 8 }), { nil: null, freq: 4 });
const batchArb = fc.array(fc.tuple(keyArb, valArb), { maxLength: 30 });

test('JMT: incremental root equals the from-scratch root for any sequence of batches', () => {
  fc.assert(
    fc.property(fc.array(batchArb, { minLength: 1, maxLength: 12 }), fc.boolean(), fc.nat(20), (batches, inMemory, budget) => {
      const t = new MemTree(inMemory, { remaining: budget });
      const model = new Map<string, Bytes>();
      for (const b of batches) {
        const batch = new Map<string, Bytes | null>(b);
        for (const [k, v] of batch) {
          if (v === null) model.delete(k);
          else model.set(k, v);
        }
        const u = t.apply(batch);
        assert.equal(toHex(u.rootHash), toHex(referenceRoot(model)));
      }
      for (const [k, v] of model) assert.equal(toHex(getValue(t, t.root, utf8(k))!), toHex(v));
    }),
    { numRuns: 300 },
  );
});

test('JMT: root is independent of how changes are split into versions', () => {
  fc.assert(
    fc.property(batchArb, fc.nat(30), (ops, cut) => {
      const all = new Map<string, Bytes | null>(ops);
      const a = new MemTree();
      a.apply(all);
      const entries = [...all];
      const b = new MemTree();
      b.apply(new Map(entries.slice(0, cut)));
      b.apply(new Map(entries.slice(cut)));
      assert.equal(toHex(a.root?.hash ?? EMPTY_ROOT), toHex(b.root?.hash ?? EMPTY_ROOT));
    }),
  );
});

test('JMT: an unchanged value or deleting an absent key writes nothing', () => {
  const t = new MemTree();
  t.apply(new Map([['a', utf8('1')], ['b', utf8('2')], ['c', utf8('3')]]));
  const u = t.apply(new Map([['a', utf8('1')], ['zz', null]]));
  assert.equal(u.newNodes.length, 0);
  assert.equal(u.stale.length, 0);
});

test('JMT: proofs of presence and absence verify, and fail when tampered with', () => {
  fc.assert(
    fc.property(batchArb, fc.array(keyArb, { maxLength: 8 }), (ops, probes) => {
      const t = new MemTree();
      const model = new Map<string, Bytes>();
      for (const [k, v] of ops) if (v !== null) model.set(k, v);
      t.apply(new Map(model));
      const root = t.root?.hash ?? EMPTY_ROOT;
      for (const k of [...model.keys(), ...probes]) {
        const { value, proof } = prove(t, t.root, utf8(k));
        assert.equal(value === null ? null : toHex(value), model.has(k) ? toHex(model.get(k)!) : null);
        const p2 = decodeProof(encodeProof(proof));
        assert.deepEqual(checkProof(root, utf8(k), value, p2), { ok: true });
        // Claiming the opposite must fail.
        const lie = value === null ? utf8('forged') : null;
        assert.equal(checkProof(root, utf8(k), lie, p2).ok, false);
        if (value !== null) {
          assert.equal(checkProof(root, utf8(k), new Uint8Array([...value, 1]), p2).ok, false);
        }
        // A flipped bit anywhere in a sibling hash must fail.
        const step = p2.steps.find((s) => s.siblings.length > 0);
        if (step) {
          const s0 = step.siblings[0]!;
          s0[0] = (s0[0]! ^ 1) & 0xff;
          assert.equal(checkProof(root, utf8(k), value, p2).ok, false);
        }
      }
    }),
    { numRuns: 200 },
  );
});

test('JMT: old versions stay readable and provable', () => {
  const t = new MemTree();
  t.apply(new Map([['x', utf8('1')]]));
  const r1 = t.root;
  t.apply(new Map([['x', utf8('2')], ['y', utf8('3')]]));
  t.apply(new Map([['x', null]]));
  assert.equal(toHex(getValue(t, r1, utf8('x'))!), toHex(utf8('1')));
  assert.equal(getValue(t, t.root, utf8('x')), null);
  const { proof } = prove(t, r1, utf8('y'));
  assert.deepEqual(checkProof(r1!.hash, utf8('y'), null, proof), { ok: true });
});

test('JMT: empty tree has the zero root and proves absence', () => {
  const t = new MemTree();
  const { value, proof } = prove(t, null, utf8('k'));
  assert.equal(value, null);
  assert.deepEqual(checkProof(EMPTY_ROOT, utf8('k'), null, proof), { ok: true });
  assert.equal(checkProof(sha256(utf8('x')), utf8('k'), null, proof).ok, false);
});
