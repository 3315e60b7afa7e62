import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sha256 } from './hash.js';
import { merkleProof, merkleRoot, verifyMerkleProof } from './merkle.js';

const leavesOf = (n: number, salt = 0) => Array.from({ length: n }, (_, i) => sha256(new TextEncoder().encode(`leaf ${salt} ${i}`)));

test('merkle: every leaf of every list size up to 70 proves against the root, at its own position only', () => {
  for (let n = 1; n <= 70; n++) {
    const leaves = leavesOf(n);
    const root = merkleRoot(leaves);
    for (let i = 0; i < n; i++) {
      const proof = merkleProof(leaves, i);
      assert.ok(verifyMerkleProof(leaves[i]!, i, n, proof, root), `n=${n} i=${i}`);
      // The same leaf and proof do not verify at another position of the same list.
      if (n > 1) assert.equal(verifyMerkleProof(leaves[i]!, (i + 1) % n, n, proof, root), false, `moved n=${n} i=${i}`);
      assert.equal(verifyMerkleProof(leaves[(i + 1) % n]!, i, n, proof, root), n === 1 ? true : false);
    }
  }
});

test('merkle: tampering with any proof element, the leaf or the root fails (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 300 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 31 }), (n, ir, pick, byte) => {
      const leaves = leavesOf(n, n);
      const i = ir % n;
      const root = merkleRoot(leaves);
      const proof = merkleProof(leaves, i);
      assert.ok(verifyMerkleProof(leaves[i]!, i, n, proof, root));
      const bad = proof.map((p) => Uint8Array.from(p));
      const victim = bad[pick % bad.length] as Uint8Array;
      victim[byte] = (victim[byte] as number) ^ 1;
      assert.equal(verifyMerkleProof(leaves[i]!, i, n, bad, root), false);
      assert.equal(verifyMerkleProof(leaves[i]!, i, n, proof.slice(0, -1), root), false);
      assert.equal(verifyMerkleProof(leaves[i]!, i, n, [...proof, root], root), false);
      const badRoot = Uint8Array.from(root);
      badRoot[byte] = (badRoot[byte] as number) ^ 1;
      assert.equal(verifyMerkleProof(leaves[i]!, i, n, proof, badRoot), false);
    }),
    { numRuns: 300 },
  );
});

test('merkle: bad positions are rejected, not thrown on, when verifying', () => {
  const leaves = leavesOf(5);
  const root = merkleRoot(leaves);
  for (const [i, n] of [[-1, 5], [5, 5], [0, 0], [1.5, 5]] as const) assert.equal(verifyMerkleProof(leaves[0]!, i, n, [], root), false);
  assert.throws(() => merkleProof(leaves, 5), RangeError);
});
