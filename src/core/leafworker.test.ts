import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inlineLeafHasher, type LeafHasher } from './leafhash.js';
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

const PREFIX = bytes('prefix', 9);
const HEAD_LEN = 36;

/** Lines: HEAD_LEN bytes of head, then details of the given size. */
function makeLines(tag: string, sizes: readonly number[], count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => bytes(`${tag}${i}`, HEAD_LEN + (sizes[i % sizes.length] as number)));
}

/**
 * Writes `lines` as a caller does: several lines per buffer, a new buffer every `perBuffer`
 * lines (a chunk), a buffer outgrown in the middle of a line replaced by a bigger copy of it.
 */
function run(h: LeafHasher, lines: readonly Buffer[], perBuffer = 7): Buffer {
  const job = h.start(PREFIX, HEAD_LEN);
  let buf: Buffer = Buffer.alloc(0);
  let pos = 0;
  let inBuffer = 0;
  for (const l of lines) {
    if (inBuffer === perBuffer || buf.length === 0) {
      buf = job.buffer(64, 4);
      pos = 4;
      inBuffer = 0;
    }
    const lineStart = pos;
    // Write the line in two parts, growing between them if needed (as the builder does per item).
    for (const part of [l.subarray(0, HEAD_LEN), l.subarray(HEAD_LEN)]) {
      if (pos + part.length > buf.length) {
        let size = buf.length * 2;
        while (size < pos + part.length) size *= 2;
        const next = job.buffer(size, lineStart);
        buf.copy(next, 0, 0, pos);
        buf = next;
      }
      part.copy(buf, pos);
      pos += part.length;
    }
    job.add(pos);
    inBuffer++;
  }
  return job.finish();
}

function expected(lines: readonly Buffer[]): Buffer {
  return Buffer.concat(
    lines.map((l, i) => {
      const index = Buffer.alloc(4);
      index.writeUInt32BE(i);
      const details = createHash('sha256').update(l.subarray(HEAD_LEN)).digest();
      return createHash('sha256').update(PREFIX).update(index).update(l.subarray(0, HEAD_LEN)).update(details).digest();
    }),
  );
}

test('worker leaf hashing gives the inline leaves byte for byte: many lines (the ring wraps), huge details, empty details, buffers outgrown mid-line, several jobs', () => {
  // A 64-entry ring: 40k lines wrap it hundreds of times, and the caller often waits for room.
  const w = new WorkerLeafHasher({ ringEntries: 64 });
  const big = new WorkerLeafHasher();
  const small = makeLines('s', [0, 1, 80, 160, 4096], 40_000);
  const huge = [bytes('H', HEAD_LEN + (20 << 20)), ...small.slice(0, 10)];
  for (const lines of [small, huge, [], small.slice(0, 1)]) {
    const want = expected(lines);
    for (const perBuffer of [1, 7, 4096]) {
      assert.deepEqual(run(w, lines, perBuffer), want);
      assert.deepEqual(run(big, lines, perBuffer), want);
      assert.deepEqual(run(inlineLeafHasher, lines, perBuffer), want);
    }
  }
});

test('a job abandoned half way does not leak into the next', () => {
  const w = new WorkerLeafHasher({ ringEntries: 64 });
  const lines = makeLines('a', [100], 500);
  const job = w.start(PREFIX, HEAD_LEN);
  const buf = job.buffer(1 << 20, 0);
  let pos = 0;
  for (const l of lines.slice(0, 300)) {
    l.copy(buf, pos);
    pos += l.length;
    job.add(pos);
  }
  // no finish(): the caller threw
  assert.deepEqual(run(w, lines.slice(300)), expected(lines.slice(300)));
});

test('the leaf preimage is prefix ‖ u32be index ‖ head ‖ SHA-256(details) (a fixed vector)', () => {
  const job = inlineLeafHasher.start(Buffer.from('00' + '0000000000000007', 'hex'), 2);
  const buf = job.buffer(16, 0);
  buf.write('aabbccdd', 0, 'hex');
  job.add(4);
  const details = createHash('sha256').update(Buffer.from('ccdd', 'hex')).digest();
  const want = createHash('sha256').update(Buffer.from('00' + '0000000000000007' + '00000000' + 'aabb', 'hex')).update(details).digest();
  assert.deepEqual(job.finish(), want);
});
