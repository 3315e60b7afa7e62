import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sha256 } from './hash.js';
import { verifyWideProof, wideLevels, wideProof, wideRoot } from './widemerkle.js';

function leaves(n: number): Buffer {
  const b = Buffer.alloc(n * 32);
  for (let i = 0; i < n; i++) b.set(sha256(Buffer.from(`leaf ${i}`)), i * 32);
  return b;
}

test('wide Merkle tree: every position of lists 1..300 proves, for arities 2, 3 and 16', () => {
  for (const k of [2, 3, 16]) {
    for (let n = 1; n <= 300; n += n < 40 ? 1 : 37) {
      const flat = leaves(n);
      const levels = wideLevels(flat, n, k);
      const root = wideRoot(flat, n, k);
      for (let i = 0; i < n; i++) {
        const leaf = flat.subarray(i * 32, i * 32 + 32);
        const proof = wideProof(levels, n, i, k);
        assert.ok(verifyWideProof(leaf, i, n, proof, root, k), `k=${k} n=${n} i=${i}`);
        // (Another count may share this path's shape; the epoch record stores the count.)
        if (n > 1) assert.ok(!verifyWideProof(leaf, (i + 1) % n, n, proof, root, k), 'another position fails');
      }
    }
  }
});

test('wide Merkle tree: a single leaf is its own root; arity 2 matches a binary tree with promoted odd nodes', () => {
  const one = leaves(1);
  assert.deepEqual(Buffer.from(wideRoot(one, 1)), one);
  // 3 leaves, k=2: root = H(1 || H(1||a||b) || c)
  const f = leaves(3);
  const a = f.subarray(0, 32), b = f.subarray(32, 64), c = f.subarray(64, 96);
  const ab = sha256(Buffer.concat([Buffer.of(1), a, b]));
  assert.deepEqual(Buffer.from(wideRoot(f, 3, 2)), Buffer.from(sha256(Buffer.concat([Buffer.of(1), ab, c]))));
});

test('wide Merkle tree: any tampered proof byte, leaf or root fails (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 500 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (n, iRaw, pos, bit) => {
      const flat = leaves(n);
      const i = iRaw % n;
      const levels = wideLevels(flat, n);
      const root = wideRoot(flat, n);
      const proof = wideProof(levels, n, i).map((p) => Buffer.from(p));
      const leaf = Buffer.from(flat.subarray(i * 32, i * 32 + 32));
      assert.ok(verifyWideProof(leaf, i, n, proof, root));
      const all = [leaf, ...proof];
      const victim = all[pos % all.length] as Buffer;
      victim[bit % 32] = (victim[bit % 32] as number) ^ (1 + (bit % 255));
      assert.ok(!verifyWideProof(leaf, i, n, proof, root));
    }),
    { numRuns: 200 },
  );
});
