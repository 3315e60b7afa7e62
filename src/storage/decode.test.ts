import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { type Bytes } from '../core/bytes.js';
import { InvalidInputError } from '../core/errors.js';
import { pieceProof } from '../core/shardtree.js';
import { decodeFile, verifiedFetcher, verifyFetchedPiece, type PieceFetcher } from './decode.js';
import { StorageError } from './errors.js';
import { type Manifest } from './layout.js';
import { pieceRootOf } from './piecehash.js';
import { storedInMemory } from '../testkit/storage.js';

const MiB = 1 << 20;

/** Byte equality with a short message (deepEqual on MiB buffers would print megabytes). */
function sameBytes(actual: Uint8Array, expected: Uint8Array, what = ''): void {
  if (Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected)) return;
  let i = 0;
  while (i < Math.min(actual.length, expected.length) && actual[i] === expected[i]) i++;
  assert.fail(`${what} bytes differ: lengths ${actual.length} vs ${expected.length}, first difference at ${i}`);
}

function fetcher(pieces: Uint8Array[][], lost: (shard: number, segment: number) => boolean = () => false): PieceFetcher {
  return async (j, s) => (lost(j, s) ? null : (pieces[j]?.[s] ?? null));
}

async function decoded(man: Manifest, fetch: PieceFetcher, parallel?: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  await decodeFile(man, fetch, (c) => void parts.push(Uint8Array.from(c)), parallel === undefined ? {} : { parallel });
  return Buffer.concat(parts);
}

test('decode: round trip is byte-identical at the layout edges', async () => {
  for (const size of [0, 1, 15, 16, 17, 4 * 4096 - 16, 4 * 4096 - 15, 4 * MiB - 16, 4 * MiB - 15, 3 * (4 * MiB - 16) + 5]) {
    const data = randomBytes(size);
    const { man, pieces } = await storedInMemory(data);
    sameBytes(await decoded(man, fetcher(pieces)), data, `size ${size}`);
  }
});

test('decode: round trip for random sizes and codes, with up to m pieces lost per segment (property)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 3 * MiB }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 3 }), fc.integer(), async (size, k, m, seed) => {
      const data = randomBytes(size);
      const { man, pieces } = await storedInMemory(data, { k, m });
      // Lose a pseudo-random set of at most m pieces in each segment.
      const lost = (j: number, s: number): boolean => ((seed ^ (s * 2654435761)) >>> 0) % (k + m) <= j && j < ((seed ^ (s * 2654435761)) >>> 0) % (k + m) + m;
      sameBytes(await decoded(man, fetcher(pieces, lost), 1 + (Math.abs(seed) % 3)), data);
    }),
    { numRuns: 25 },
  );
});

test('decode 4+2: every combination of up to 2 unavailable shards decodes; 3 fail with NOT_ENOUGH_SHARDS', async () => {
  const data = randomBytes(10000);
  const { man, pieces } = await storedInMemory(data);
  let combos = 0;
  for (let a = -1; a < 6; a++) {
    for (let b = a + 1; b < 6; b++) {
      const gone = new Set([a, b].filter((x) => x >= 0));
      const parts: Uint8Array[] = [];
      const report = await decodeFile(man, fetcher(pieces, (j) => gone.has(j)), (c) => void parts.push(Uint8Array.from(c)));
      sameBytes(Buffer.concat(parts), data, `without ${[...gone]}`);
      // Lost data shards are always noticed; a lost parity shard only if it was needed.
      assert.ok(report.failedShards.every((j) => gone.has(j)));
      for (const j of gone) if (j < 4) assert.ok(report.failedShards.includes(j));
      assert.equal(report.repairedSegments, [...gone].some((j) => j < 4) ? 1 : 0);
      combos++;
    }
    if (a === -1) {
      // a = -1 also stands for "nothing lost" (b = 0..5 covered single losses above).
      sameBytes(await decoded(man, fetcher(pieces)), data);
      combos++;
    }
  }
  assert.equal(combos, 1 + 6 + 15);
  for (const gone of [[0, 1, 2], [3, 4, 5], [0, 4, 5]]) {
    await assert.rejects(
      decodeFile(man, fetcher(pieces, (j) => gone.includes(j)), () => {}),
      (e: unknown) => e instanceof StorageError && e.code === 'NOT_ENOUGH_SHARDS' && /segment 0: only 3 of the 4 pieces/.test(e.message) && /shard \d: unavailable/.test(e.details ?? ''),
    );
  }
});

test('decode: a failing shard is asked last for later segments; fetch errors and short pieces count as unavailable', async () => {
  const data = randomBytes(4 * (4 * MiB - 16));
  const { man, pieces } = await storedInMemory(data);
  const asked: number[][] = [];
  const fetch: PieceFetcher = async (j, s) => {
    (asked[s] ??= []).push(j);
    if (j === 1) throw new Error('connection refused');
    if (j === 2) return pieces[j]![s]!.subarray(1);
    return pieces[j]![s]!;
  };
  const parts: Uint8Array[] = [];
  const report = await decodeFile(man, fetch, (c) => void parts.push(Uint8Array.from(c)), { parallel: 1 });
  sameBytes(Buffer.concat(parts), data);
  assert.deepEqual(report, { bytes: data.length, repairedSegments: 4, failedShards: [1, 2], sha256Checked: false });
  assert.deepEqual(asked[0]!.slice().sort(), [0, 1, 2, 3, 4, 5]);
  for (let s = 1; s < 4; s++) assert.deepEqual(asked[s]!.slice().sort(), [0, 3, 4, 5], `segment ${s} skips the failed shards`);
});

test('decode: a tampered piece is caught by verification (then rebuilt from parity) or by GCM; a wrong key fails', async () => {
  const data = randomBytes(3 * MiB);
  const { man, pieces } = await storedInMemory(data);
  const bad = pieces.map((ps) => ps.map((p) => Uint8Array.from(p)));
  bad[1]![0]![12345]! ^= 1;
  // With proofs checked (on the hashing threads or inline), the tampered piece is unavailable
  // and parity takes its place.
  const withProof = async (j: number, s: number) => ({ piece: bad[j]![s]!, proof: pieceProof(pieces[j]!.map((p) => pieceRootOf(p)), s) });
  for (const hasher of ['auto', 'inline'] as const) {
    const parts: Uint8Array[] = [];
    const report = await decodeFile(man, verifiedFetcher(man, withProof, { hasher }), (c) => void parts.push(Uint8Array.from(c)));
    sameBytes(Buffer.concat(parts), data, hasher);
    assert.deepEqual(report.failedShards, [1]);
  }
  // Unchecked, AES-GCM refuses the segment.
  await assert.rejects(decodeFile(man, fetcher(bad), () => {}), (e: unknown) => e instanceof StorageError && e.code === 'DECRYPT_FAILED' && /segment 0 failed authentication/.test(e.message));
  const wrongKey = { ...man, key: 'ab'.repeat(32) };
  await assert.rejects(decodeFile(wrongKey, fetcher(pieces), () => {}), (e: unknown) => e instanceof StorageError && e.code === 'DECRYPT_FAILED');
  // The whole-file SHA-256 is checked only when asked for (every segment is authenticated anyway).
  const wrongHash = { ...man, sha256: '00'.repeat(32) };
  await assert.rejects(decodeFile(wrongHash, fetcher(pieces), () => {}, { verifySha256: true }), (e: unknown) => e instanceof StorageError && e.code === 'SHA256_MISMATCH');
  assert.equal((await decodeFile(wrongHash, fetcher(pieces), () => {})).sha256Checked, false);
  assert.equal((await decodeFile(man, fetcher(pieces), () => {}, { verifySha256: true })).sha256Checked, true);
  // Nothing unauthenticated is written: the bad segment is the first, so nothing at all.
  let written = 0;
  await assert.rejects(decodeFile(man, fetcher(bad), (c) => void (written += c.length)));
  assert.equal(written, 0);
});

test('verifyFetchedPiece: true for each real piece at its index, false for anything else', async () => {
  const { man, pieces } = await storedInMemory(randomBytes(9 * MiB), { k: 2, m: 1 });
  assert.equal(man.segments, 5);
  for (let j = 0; j < 3; j++) {
    const roots = pieces[j]!.map((p) => pieceRootOf(p));
    for (let s = 0; s < man.segments; s++) {
      const proof: Bytes[] = pieceProof(roots, s);
      const piece = pieces[j]![s]!;
      assert.ok(verifyFetchedPiece(man, j, s, piece, proof));
      assert.equal(verifyFetchedPiece(man, j, (s + 1) % 5, piece, proof), false);
      assert.equal(verifyFetchedPiece(man, (j + 1) % 3, s, piece, proof), false);
      assert.equal(verifyFetchedPiece(man, j, s, piece.subarray(1), proof), false);
      assert.equal(verifyFetchedPiece(man, 3, s, piece, proof), false);
      assert.equal(verifyFetchedPiece(man, j, 5, piece, proof), false);
      const flipped = Uint8Array.from(piece);
      flipped[s]! ^= 0x80;
      assert.equal(verifyFetchedPiece(man, j, s, flipped, proof), false);
    }
  }
});

test('decode: a Writable output gets the bytes with backpressure and is not ended; bad options are input errors', async () => {
  const data = randomBytes(9 * MiB);
  const { man, pieces } = await storedInMemory(data);
  const parts: Buffer[] = [];
  const out = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      setTimeout(cb, 1);
    },
  });
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch: PieceFetcher = async (j, s) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await new Promise((r) => setImmediate(r));
    inFlight--;
    return pieces[j]![s]!;
  };
  const progress: number[] = [];
  const report = await decodeFile(man, fetch, out, { parallel: 2, onProgress: (b) => progress.push(b) });
  assert.equal(report.bytes, data.length);
  assert.equal(out.writableEnded, false);
  await new Promise<void>((r) => out.end(r));
  sameBytes(Buffer.concat(parts), data);
  assert.ok(maxInFlight <= 2 * 4, `fetches bounded by parallel × k (${maxInFlight})`);
  assert.equal(progress.at(-1), data.length);
  await assert.rejects(decodeFile(man, fetch, () => {}, { parallel: 0 }), (e: unknown) => e instanceof InvalidInputError && e.code === 'INVALID_PARALLEL');
  // An output that fails stops the decode with its error.
  const broken = new Writable({
    write(_c, _e, cb) {
      cb(new Error('disk full'));
    },
  });
  await assert.rejects(decodeFile(man, fetch, broken), /disk full/);
});
