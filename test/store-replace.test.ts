/**
 * `groundwork store put` when a winning provider refuses its shard: three provider agents bid
 * 100/110/120 ugw per block, and the cheapest has room for 64 KiB only. A 1+1 put matches the
 * two cheapest; the cheapest refuses the upload (INSUFFICIENT_CAPACITY), so the put closes that
 * lease, takes the third provider's losing bid (it stays on the order, lost) and uploads the shard
 * there: the deal is made on the two others and the file comes back byte for byte. A 2+1 put,
 * which needs all three, has no losing bid to fall back on: it fails with UPLOAD_FAILED and its
 * order is closed and refunded. A put paid in Data Credits (--denom dc) stores and reads back the
 * same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStorageNet } from '../src/testkit/storage.js';

test('store put: a provider that refuses its shard is replaced by a losing bid; paid in DC; with no bid left the put fails and refunds', { timeout: 300_000 }, async () => {
  const net = await startStorageNet({
    chainId: 'store-replace',
    providers: 3,
    price: (i) => 100n + 10n * BigInt(i),
    params: { storage: { periodBlocks: '100000' } },
    blockTimeMs: 200,
    capacityBytes: (i) => (i === 0 ? 64 << 10 : 64 << 20),
    // The agents withdraw at every block they can: a losing bid is its order's standby for
    // market.standbyBlocks, so a withdraw landing between the match and the put's replacement
    // must leave it for the put to take.
    withdrawEveryBlocks: 1,
  });
  try {
    const [small, p1, p2] = net.providers as [(typeof net.providers)[number], (typeof net.providers)[number], (typeof net.providers)[number]];
    const file = join(net.home, 'file.bin');
    const data = randomBytes(300 * 1024);
    writeFileSync(file, data);
    const put = ['store', 'put', file, '--key', 'cust', '--duration', '1000', '--max-price', '1000ugw', '--bid-window', '10'];

    // 1+1: p0 and p1 win, p0 refuses, p2's losing bid takes shard 0 (or 1: whichever p0 had).
    const r = await net.run([...put, '--k', '1', '--m', '1']);
    assert.match(r.stderr, new RegExp(`${small.address} failed \\(.*INSUFFICIENT_CAPACITY.*\\); lease [0-9]+ closed, the shard goes to ${p2.address}`));
    const order = /as order ([0-9]+)/.exec(r.stdout)?.[1];
    assert.ok(order, r.stdout);
    const { deal } = await net.json<{ deal: { shards: Array<{ provider: string; status: string }> } }>(['store', 'status', order]);
    assert.deepEqual(deal.shards.map((s) => s.status), ['active', 'active']);
    assert.deepEqual(new Set(deal.shards.map((s) => s.provider)), new Set([p1.address, p2.address]), 'the deal is on the two providers that took their shards');
    const leases = await net.json<{ leases: Array<{ provider: string; status: string; closeReason: string | null }> }>(['lease', 'list', '--order', order]);
    const closed = leases.leases.filter((l) => l.status === 'closed');
    assert.deepEqual(
      closed.map((l) => [l.provider, l.closeReason]),
      [[small.address, 'customer']],
      'the refusing provider\'s lease was closed by the customer',
    );
    const back = join(net.home, 'file.out');
    await net.run(['store', 'get', order, '-o', back]);
    assert.ok(readFileSync(back).equals(data), 'the file comes back byte for byte');

    // Paid in Data Credits: the same flow, the escrow in DC (the order says so).
    const dc = await net.run(['store', 'put', file, '--key', 'cust', '--duration', '1000', '--max-price', '500', '--denom', 'dc', '--bid-window', '10', '--k', '1', '--m', '1']);
    assert.match(dc.stdout, /DC\/block/);
    const dcOrder = /as order ([0-9]+)/.exec(dc.stdout)?.[1] as string;
    assert.equal((await net.json<{ order: { denom: string } }>(['market', 'order', 'show', dcOrder])).order.denom, 'dc');
    assert.match((await net.run(['store', 'status', dcOrder])).stdout, /escrow: +[0-9,]+ DC \(owed now [0-9,]+ DC\)/);
    const dcBack = join(net.home, 'file.dc.out');
    await net.run(['store', 'get', dcOrder, '-o', dcBack]);
    assert.ok(readFileSync(dcBack).equals(data), 'the DC-paid file comes back byte for byte');
    const badDc = await net.run(['store', 'put', file, '--key', 'cust', '--duration', '1000', '--max-price', '0.001gw', '--denom', 'dc'], false);
    assert.match(badDc.stderr, /is not a DC amount: this is a Data Credit amount/);

    // 2+1 needs all three: no losing bid is left when p0 refuses.
    const f = await net.run([...put, '--k', '2', '--m', '1', '--json'], false);
    const err = JSON.parse(f.stderr) as { error: { code: string; message: string } };
    assert.equal(err.error.code, 'UPLOAD_FAILED');
    assert.match(err.error.message, /INSUFFICIENT_CAPACITY.*no other bid on the order was left to take its place; order [0-9]+ was closed and [0-9.]+ GW refunded/s);
  } finally {
    await net.close();
  }
});
