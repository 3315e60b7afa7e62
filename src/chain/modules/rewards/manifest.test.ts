import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inlineLeafHasher } from '../../../core/leafhash.js';
import { WorkerLeafHasher } from '../../../core/leafworker.js';
import { Manifest, ManifestBuilder, lineAmount } from './manifest.js';

const H = (s: string, n: number): Buffer => createHash('sha256').update(s).digest().subarray(0, n);
const u128 = (v: bigint): Buffer => {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(v >> 64n);
  b.writeBigUInt64BE(v & ((1n << 64n) - 1n), 8);
  return b;
};

test('ManifestBuilder: the root, amounts and pool totals equal the generic codecs and lineAmount, for amounts below 2^53, mixed and above 2^64, with the inline and the worker hasher', () => {
  const worker = new WorkerLeafHasher({ ringEntries: 64 });
  for (const scale of [1n, 1n << 50n, 1n << 70n]) {
    for (const hasher of [inlineLeafHasher, worker]) {
      const recips = Array.from({ length: 3000 }, (_, i) => H(`r${i}`, 20)).sort(Buffer.compare);
      const items = recips.map((_, i) =>
        Array.from({ length: 1 + (i % 4) }, (_, k) => ({ pool: (i + k) % 3, device: H(`d${i}/${k}`, 32), reason: 'x'.repeat(1 + (k % 5)), units: BigInt(i + 1) * scale, weighted: BigInt(i * 7 + k) * scale })),
      );
      const workUnits = [0n, 0n, 0n];
      for (const it of items.flat()) workUnits[it.pool] = (workUnits[it.pool] as bigint) + it.weighted;
      const totals = { alloc: [3n * scale * 1000n + 7n, 5n * 10n ** 15n, 1n << 60n, 0n, 9n], workUnits, stake: 0n };
      const chunks: Buffer[] = [];
      const b = new ManifestBuilder(5n, totals, 100, (no, bytes) => (chunks[no] = Buffer.from(bytes)), hasher);
      const prefix = Buffer.alloc(9);
      recips.forEach((r, i) => {
        for (const it of items[i] ?? []) {
          const key = Buffer.concat([prefix, r, Buffer.of(it.pool), it.device, Buffer.from(it.reason)]);
          b.addWork(it.pool, key, 9 + 20 + 1, 9 + 20 + 1 + 32, Buffer.concat([u128(it.units), u128(it.weighted)]));
        }
        b.endLine(r);
      });
      const root = b.finish();
      const m = Manifest.fromArtifacts(5n, (c) => chunks[c], { count: b.count, chunkSize: 100, firstRecipients: [] });
      assert.deepEqual(Buffer.from(m.root), Buffer.from(root), `root, scale ${scale}`);
      const want = [0n, 0n, 0n, 0n, 0n];
      let n = 0;
      recips.forEach((_, i) => {
        const a = lineAmount(totals, (items[i] ?? []).map((value) => ({ type: 'work' as const, value })));
        if (a.amount === 0n) return;
        assert.equal(m.lines[n]?.amount, a.amount, `line ${n}, scale ${scale}`);
        n++;
        a.byPool.forEach((x, p) => (want[p] = (want[p] as bigint) + x));
      });
      assert.equal(n, b.count);
      assert.deepEqual(b.paid, want);
    }
  }
});
