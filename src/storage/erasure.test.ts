import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { toHex } from '../core/bytes.js';
import { InvalidInputError } from '../core/errors.js';
import { encodePieces, erasureCoder, reconstructPieces } from './erasure.js';
import { MAX_DATA_SHARDS, MAX_PARITY_SHARDS } from './layout.js';

/** Every subset of {0..n-1} with `size` members, as index lists. */
function subsets(n: number, size: number): number[][] {
  if (size === 0) return [[]];
  if (n < size) return [];
  return [...subsets(n - 1, size), ...subsets(n - 1, size - 1).map((s) => [...s, n - 1])];
}

test('erasure 4+2: every combination of up to 2 lost pieces is rebuilt exactly', async () => {
  const data = Array.from({ length: 4 }, () => randomBytes(4096));
  const parity = await encodePieces(4, 2, data);
  const all = [...data, ...parity];
  let combos = 0;
  for (let lost = 0; lost <= 2; lost++) {
    for (const gone of subsets(6, lost)) {
      const got = await reconstructPieces(4, 2, all.map((p, i) => (gone.includes(i) ? null : p)));
      got.forEach((p, i) => assert.deepEqual(p, all[i], `lost ${gone} piece ${i}`));
      combos++;
    }
  }
  assert.equal(combos, 1 + 6 + 15);
});

test('erasure: any k of k+m pieces rebuild the rest, for every k ≤ 24 and m ≤ 6 (property)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: MAX_DATA_SHARDS }), fc.integer({ min: 1, max: MAX_PARITY_SHARDS }), fc.integer({ min: 1, max: 16 }), fc.infiniteStream(fc.nat()), async (k, m, words, picks) => {
      const size = words * 8;
      const data = Array.from({ length: k }, () => randomBytes(size));
      const all = [...data, ...(await encodePieces(k, m, data))];
      const gone = new Set<number>();
      const it = picks[Symbol.iterator]();
      while (gone.size < m) gone.add((it.next().value as number) % (k + m));
      const got = await reconstructPieces(k, m, all.map((p, i) => (gone.has(i) ? null : p)));
      got.forEach((p, i) => assert.deepEqual(p, all[i]));
    }),
    { numRuns: 60 },
  );
});

test('erasure: the parity bytes are the library\'s code (regression vector: shard roots commit to them)', async () => {
  // The first parity piece is the XOR of the data pieces; the others depend on the piece size
  // too (the library's bit-matrix code works on packets of pieceSize / w bytes).
  const data = [0, 1, 2, 3].map((j) => Uint8Array.from({ length: 16 }, (_, i) => (i * 31 + j * 7) & 0xff));
  const parity = await encodePieces(4, 2, data);
  assert.deepEqual(parity.map(toHex), ['1c206420e4207c300c00040004000c30', 'f22d486382868e8a6588a3fe14100c08']);
  const xor = data.reduce((a, d) => a.map((v, i) => v ^ (d[i] as number)), new Uint8Array(16));
  assert.deepEqual(parity[0], Buffer.from(xor));
});

test('erasure: m = 0 has no parity; k = 1 replicates', async () => {
  const d = randomBytes(64);
  assert.deepEqual(await encodePieces(3, 0, [d, d, d]), []);
  const [p1, p2] = await encodePieces(1, 2, [d]);
  assert.deepEqual(p1, d);
  assert.deepEqual(p2, d);
});

test('erasure: errors', async () => {
  const isInput = (code: string) => (e: unknown) => e instanceof InvalidInputError && e.code === code;
  assert.throws(() => erasureCoder(0, 2), isInput('INVALID_ERASURE_CODE'));
  assert.throws(() => erasureCoder(25, 1), isInput('INVALID_ERASURE_CODE'));
  assert.throws(() => erasureCoder(4, 7), isInput('INVALID_ERASURE_CODE'));
  const data = Array.from({ length: 4 }, () => randomBytes(64));
  const all = [...data, ...(await encodePieces(4, 2, data))];
  await assert.rejects(reconstructPieces(4, 2, [null, null, null, ...all.slice(3)]), isInput('NOT_ENOUGH_PIECES'));
  await assert.rejects(reconstructPieces(4, 2, all.slice(1)), isInput('INVALID_PIECES'));
  await assert.rejects(encodePieces(4, 2, data.slice(1)), isInput('INVALID_PIECES'));
  const coder = erasureCoder(4, 2);
  await assert.rejects(coder.encode(new Uint8Array(6 * 12), 12), isInput('INVALID_PIECE_SIZE'));
  await assert.rejects(coder.encode(new Uint8Array(6 * 8 - 1), 8), isInput('INVALID_STRIPE'));
  await assert.rejects(coder.reconstruct(new Uint8Array(48), 8, 0b1111, 0b1), isInput('INVALID_PIECE_MASK'));
  await assert.rejects(coder.reconstruct(new Uint8Array(48), 8, 0b1111, 0b1000000), isInput('INVALID_PIECE_MASK'));
});
