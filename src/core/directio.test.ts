import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALIGN, alignedBuffer, directSpan, FileWriter, isAlignedBuffer, openData, writeAllAt } from './directio.js';

const MiB = 1 << 20;

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-directio-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('alignedBuffer: whole blocks, recognised as aligned; other buffers are not', () => {
  const b = alignedBuffer(5000);
  assert.equal(b.length, 2 * ALIGN);
  assert.ok(isAlignedBuffer(b));
  assert.ok(!isAlignedBuffer(Buffer.alloc(ALIGN)));
  assert.ok(!isAlignedBuffer(b.subarray(0, ALIGN)), 'a view is not the buffer itself');
  assert.ok(!isAlignedBuffer(undefined));
  assert.ok(directSpan(0, ALIGN) && directSpan(3 * ALIGN, 8 * ALIGN));
  assert.ok(!directSpan(512, ALIGN) && !directSpan(0, 100) && !directSpan(0, 0));
});

test(
  'openData: a direct file is written and read back byte for byte; create refuses an existing file',
  withDir(async (dir) => {
    const path = join(dir, 'data');
    const buf = alignedBuffer(MiB);
    buf.set(randomBytes(MiB));
    const w = await openData(path, 'create', true);
    try {
      await writeAllAt(w.fh, buf, 0);
      await writeAllAt(w.fh, buf, MiB);
      await w.fh.sync();
    } finally {
      await w.fh.close();
    }
    await assert.rejects(openData(path, 'create', true), /EEXIST/);
    const r = await openData(path, 'read', true);
    const back = alignedBuffer(2 * MiB);
    try {
      assert.equal(r.direct, w.direct);
      assert.equal((await r.fh.read(back, 0, 2 * MiB, 0)).bytesRead, 2 * MiB);
    } finally {
      await r.fh.close();
    }
    assert.ok(back.subarray(0, MiB).equals(buf) && back.subarray(MiB).equals(buf));
    assert.ok(readFileSync(path).equals(Buffer.concat([buf, buf])), 'the page-cache view agrees');
  }),
);

test(
  'FileWriter: any size, any chunking, direct or not, writes exactly the bytes given',
  withDir(async (dir) => {
    const STAGE = 8 * MiB;
    const sizes = [0, 1, ALIGN - 1, ALIGN, ALIGN + 1, 3 * MiB + 17, STAGE, STAGE + 1, 2 * STAGE + 4095];
    for (const direct of [true, false]) {
      for (const size of sizes) {
        const data = randomBytes(size);
        const path = join(dir, `out-${direct}-${size}`);
        writeFileSync(path, 'old contents, longer than some of the files written over them'.repeat(100));
        const w = await FileWriter.open(path, { direct });
        // Uneven chunks, one of them larger than a stage.
        const cuts = [0, Math.floor(size / 7), Math.floor(size / 2), size].filter((c, i, a) => i === 0 || c > (a[i - 1] as number));
        for (let i = 1; i < cuts.length; i++) await w.write(data.subarray(cuts[i - 1], cuts[i]));
        assert.equal(w.bytes, size);
        await w.end();
        await w.end(); // twice is harmless
        assert.ok(readFileSync(path).equals(data), `${size} bytes, direct ${direct}`);
      }
    }
  }),
);

test(
  'FileWriter: write after end fails with OUTPUT_CLOSED; destroy keeps what was written so far',
  withDir(async (dir) => {
    const w = await FileWriter.open(join(dir, 'a'));
    await w.write(Buffer.from('hello'));
    await w.end();
    await assert.rejects(w.write(Buffer.from('more')), (e: Error & { code?: string }) => e.code === 'OUTPUT_CLOSED');
    const d = await FileWriter.open(join(dir, 'b'));
    await d.write(randomBytes(9 * MiB));
    await d.destroy();
    await d.destroy();
    assert.equal(readFileSync(join(dir, 'b')).length, 8 * MiB, 'the first whole stage was written, the rest dropped');
  }),
);
