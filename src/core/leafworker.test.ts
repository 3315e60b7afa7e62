import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inlineLeafHasher, LEAF_HEAD_LEN, type LeafHasher } from './leafhash.js';
import { WorkerLeafHasher } from './leafworker.js';

/** Deterministic pseudo-random bytes (a hash chain), so a failure reproduces. */
function bytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  let block = createHash('sha256').update(seed).digest();
  for (let i = 0; i < n; i += 32) {
    block.copy(out, i, 0, Math.min(32, n - i));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

function run(h: LeafHasher, lines: { head: Buffer; details: Buffer }[]): Buffer {
  const job = h.start();
  // The caller reuses its buffers between lines (as ManifestBuilder does): copies must be taken.
  const head = Buffer.alloc(LEAF_HEAD_LEN);
  const details = Buffer.alloc(1 << 23);
  for (const l of lines) {
    l.head.copy(head);
    l.details.copy(details);
    details[l.details.length] = 0xee; // bytes past the line's length must not count
    job.add(head, details, l.details.length);
  }
  return job.finish();
}

function expected(lines: { head: Buffer; details: Buffer }[]): Buffer {
  return Buffer.concat(lines.map((l) => createHash('sha256').update(l.head).update(createHash('sha256').update(l.details).digest()).digest()));
}

test('worker leaf hashing gives the inline leaves byte for byte: many small lines (the ring wraps), huge details, empty details, several jobs', () => {
  const w = new WorkerLeafHasher();
  const sizes = [0, 1, 80, 160, 4096];
  // 40k lines of 0–4096-byte details are ~37 MB of records: the 16 MiB ring wraps twice.
  const small = Array.from({ length: 40_000 }, (_, i) => ({ head: bytes(`h${i}`, LEAF_HEAD_LEN), details: bytes(`d${i}`, sizes[i % sizes.length] as number) }));
  const huge = [{ head: bytes('H', LEAF_HEAD_LEN), details: bytes('D', 5 << 20) }, ...small.slice(0, 10)];
  for (const lines of [small, huge, [], small.slice(0, 1)]) {
    const want = expected(lines);
    assert.deepEqual(run(w, lines), want);
    assert.deepEqual(run(inlineLeafHasher, lines), want);
  }
});

test('a job abandoned half way does not leak into the next', () => {
  const w = new WorkerLeafHasher();
  const lines = Array.from({ length: 500 }, (_, i) => ({ head: bytes(`a${i}`, LEAF_HEAD_LEN), details: bytes(`b${i}`, 100) }));
  const job = w.start();
  for (const l of lines.slice(0, 300)) job.add(l.head, l.details, l.details.length);
  // no finish(): the caller threw
  assert.deepEqual(run(w, lines.slice(300)), expected(lines.slice(300)));
});
