/**
 * `groundwork store repair` end to end with real processes: a node and four provider agents with
 * storage (fixed prices 900/800/700/950 ugw per block, so the put's 2+1 order goes to the first
 * three and the fourth is free for a repair). The holder of data shard 0 is killed (-9) and, as
 * its operator would, closes its leases (provider-decommission): at the next challenge period the
 * chain marks its shards lost. `store repair` rebuilds shard 0 from the two healthy shards,
 * leases the fourth provider — the two surviving holders bid cheaper, and the chain refuses them,
 * so the repair must pass them over — uploads the shard and records the repair: the deal is whole
 * again with the same roots, and with another original holder killed the file still comes back
 * byte for byte (shard 0 from the new provider is then needed). When that holder's shard is lost
 * too, only holders are left to bid: the lease the market gives one is closed again and the
 * repair fails with its escrow refunded. A deal left with fewer than k active shards cannot be
 * repaired (exit 1); one with nothing lost says so (exit 0).
 *
 * Challenge periods are short (20 blocks of 200 ms) so that a closed lease shows as a lost shard
 * within seconds; the agents' provers answer the healthy shards' challenges meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCli } from '../src/testkit/proc.js';
import { startStorageNet } from '../src/testkit/storage.js';
import type { Client } from '../src/client/client.js';
import { closeLease } from '../src/client/actions/closeLease.js';
import { getAccount } from '../src/client/actions/getAccount.js';
import { getDeal } from '../src/client/actions/getDeal.js';
import { getLease } from '../src/client/actions/getLease.js';
import type { StorageDeal } from '../src/client/storageViews.js';

const CHAIN = 'store-repair-e2e';
const FUNDS = 1_000_000_000n; // 1000 GW each
const PRICES = [900, 800, 700, 950];

async function waitForDeal(client: Client, order: bigint, what: string, ok: (d: StorageDeal) => boolean, timeoutMs = 30_000): Promise<StorageDeal> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = await getDeal(client, { order });
    if (d && ok(d)) return d;
    if (Date.now() > until) assert.fail(`deal ${order}: ${what} not within ${timeoutMs} ms: ${JSON.stringify(d?.shards.map((s) => s.status))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('store repair: a lost shard is rebuilt from k healthy ones onto a provider that holds none, same root; the file comes back with another holder down', { timeout: 400_000 }, async () => {
  const started = Date.now();
  // --- A chain with a customer, a maker and four funded providers (p1-p4 at PRICES), their agents
  // running with storage.
  const net = await startStorageNet({
    chainId: CHAIN,
    providers: PRICES.length,
    providerName: (i) => `p${i + 1}`,
    price: (i) => BigInt(PRICES[i]!),
    customerFunds: FUNDS,
    params: { storage: { periodBlocks: '20' } },
    blockTimeMs: 200,
    capacityBytes: 64 << 20,
    proverPollMs: 300,
  });
  const { home, client, keyring, run, json } = net;
  try {
    const cust = net.customers.get('cust')!.address;
    const setupMs = Date.now() - started;

    // --- Two files under 2+1: A (two segments of 1 MiB pieces) and a small B. Both go to p1-p3.
    const put = ['store', 'put', '--key', 'cust', '--duration', '10000', '--max-price', '1000ugw', '--bid-window', '3', '--k', '2', '--m', '1'];
    const fileA = join(home, 'a.bin');
    const dataA = randomBytes(3 * 1024 * 1024 + 4321);
    writeFileSync(fileA, dataA);
    const fileB = join(home, 'b.bin');
    writeFileSync(fileB, randomBytes(10_000));
    // One after the other: both sign with the customer's account (one sequence).
    const putA = await json<{ order: string; manifest: string; leases: Array<{ shard: number; provider: string; lease: string }> }>([...put, fileA]);
    const putB = await json<{ order: string; leases: Array<{ shard: number; provider: string; lease: string }> }>([...put, fileB]);
    const original = new Set(net.providers.slice(0, 3).map((p) => p.address));
    assert.deepEqual(new Set(putA.leases.map((l) => l.provider)), original, 'the three cheapest hold deal A');
    assert.deepEqual(new Set(putB.leases.map((l) => l.provider)), original, 'and deal B');
    const orderA = BigInt(putA.order);
    const orderB = BigInt(putB.order);
    const roots = (JSON.parse(readFileSync(putA.manifest, 'utf8')) as { roots: string[] }).roots;
    const fresh = net.providers[3]!;

    // --- Nothing lost: nothing to do, nothing bought (exit 0).
    const nothing = await run(['store', 'repair', putA.order]);
    assert.match(nothing.stdout, new RegExp(`deal ${putA.order}: nothing to repair: no shard is lost \\(3 of 3 active\\)`));
    assert.deepEqual((await json<{ lost: number[]; repairOrder: null }>(['store', 'repair', putA.order])).lost, []);

    // --- The holder of data shard 0 dies for good; its operator closes its leases. In deal B the
    // customer also ends the shard of another provider: B keeps one active shard of the two needed.
    // A killed agent's last tx (a proof) may still land after we read its sequence: retry then.
    const closeAsKilled = async (name: string, lease: bigint): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          await closeLease(client, { signer: keyring.signer(name), lease, timeoutMs: 30_000 });
          return;
        } catch (e) {
          if (attempt >= 5 || !/SEQUENCE_REUSED|already used/.test(e instanceof Error ? e.message + String((e as { code?: string }).code ?? '') : String(e))) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    };
    const victim = net.provider(putA.leases[0]!.provider);
    await victim.kill9();
    for (const l of [...putA.leases, ...putB.leases].filter((x) => x.provider === victim.address)) {
      await closeAsKilled(victim.name, BigInt(l.lease));
    }
    const otherB = putB.leases.find((x) => x.provider !== victim.address) as (typeof putB.leases)[number];
    await closeLease(client, { signer: keyring.signer('cust'), lease: BigInt(otherB.lease), timeoutMs: 30_000 });
    const lostA = await waitForDeal(client, orderA, 'shard 0 lost', (d) => d.shards[0]?.status === 'lost');
    assert.deepEqual(lostA.shards.map((s) => s.status), ['lost', 'active', 'active']);
    await waitForDeal(client, orderB, 'one shard left', (d) => d.shards.filter((s) => s.status === 'active').length === 1);

    // --- B cannot be repaired: one active shard, two needed (exit 1, one line, nothing bought).
    const custBefore = (await getAccount(client, { address: cust })).balance;
    const cannot = await run(['store', 'repair', putB.order], false);
    assert.match(cannot.stderr, new RegExp(`^error: cannot repair deal ${putB.order}: only 1 of its 3 shards are active and 2 are needed to rebuild the lost ones \\(shard [0-2]\\); the file cannot be recovered from the network\\n$`));
    assert.equal((await getAccount(client, { address: cust })).balance, custBefore, 'nothing was spent');

    // --- Repair A: shard 0 rebuilt and put on the fourth provider, the only one holding no shard
    // of A (the surviving holders bid 700 and 800, cheaper than its 950).
    const repairStarted = Date.now();
    // A 4 s bid window: the accept must land before it closes even on a loaded machine.
    const rep = await run(['store', 'repair', putA.order, '--bid-window', '20']);
    const repairMs = Date.now() - repairStarted;
    // Progress on stderr: the rebuild checked, the fresh provider's bid accepted, no lease wasted.
    assert.match(rep.stderr, new RegExp(`deal ${putA.order}: shard\\(s\\) 0 lost, 2 active \\(2 needed\\); rebuilding 1 × 2 MiB`));
    assert.match(rep.stderr, /rebuilt shard\(s\) 0: every root matches the deal's/);
    assert.match(rep.stderr, new RegExp(`accepted ${fresh.address} \\(lease [0-9]+\\)`));
    assert.match(rep.stderr, /shard 0 repaired at height [0-9]+; repair fee 1 GW/);
    assert.doesNotMatch(rep.stderr, /closed lease|could not accept/, 'no lease went to a holder');
    const line = new RegExp(`Repaired deal ${putA.order} \\(a\\.bin\\): 1 shard\\(s\\) on new providers, 3 of 3 active\\n  shard 0  lease ([0-9]+) +${fresh.address}  0\\.00095 GW/block`).exec(rep.stdout);
    assert.ok(line, rep.stdout);
    assert.match(rep.stdout, new RegExp(`roots unchanged: 0=${roots[0]!.slice(0, 16)}`));
    const lease = await getLease(client, { id: BigInt(line[1]!) });
    assert.deepEqual([lease?.status, lease?.provider, lease?.customer, lease?.price], ['active', fresh.address, cust, 950n]);
    assert.notEqual(lease?.order, orderA, 'paid by a repair order of its own');

    const st = await json<{ deal: { repairs: number; reserve: string; shards: Array<{ status: string; provider: string; root: string; lease: string }> }; health: string }>(['store', 'status', putA.order]);
    assert.deepEqual(st.deal.shards.map((s) => s.status), ['active', 'active', 'active']);
    assert.deepEqual(st.deal.shards.map((s) => s.root), roots, 'the same roots');
    assert.equal(st.deal.shards[0]!.provider, fresh.address);
    assert.equal(st.deal.shards[0]!.lease, line[1]);
    assert.deepEqual([st.deal.repairs, st.deal.reserve], [1, '0']);
    assert.match(st.health, /^healthy/);
    assert.match((await run(['store', 'repair', putA.order])).stdout, /nothing to repair/);

    // --- Another original holder down: shard 0 must now come from the fourth provider.
    const second = net.provider(putA.leases[1]!.provider);
    await second.kill9();
    const out = join(home, 'a.out');
    const got = await json<{ failedShards: number[]; bytes: number }>(['store', 'get', putA.order, '-o', out]);
    assert.ok(readFileSync(out).equals(dataA), 'the file comes back byte for byte');
    assert.deepEqual(got.failedShards, [1]);

    // --- That holder's shard lost too: every provider still bidding now holds a shard of A, so
    // the market's lease goes to a holder, is closed again, and the repair fails with the escrow back.
    for (const l of putA.leases.filter((x) => x.provider === second.address)) {
      await closeAsKilled(second.name, BigInt(l.lease));
    }
    await waitForDeal(client, orderA, 'shard 1 lost', (d) => d.shards[1]?.status === 'lost');
    const before = (await getAccount(client, { address: cust })).balance;
    const none = await run(['store', 'repair', putA.order], false);
    assert.match(none.stderr, /closed lease [0-9]+ of gw1[0-9a-z]+: the provider already holds a shard of the deal/);
    assert.match(
      none.stderr,
      new RegExp(`error: no provider outside deal ${putA.order}'s current holders took repair order ([0-9]+) \\(1 lease\\(s\\) went to providers already holding a shard, which the chain refuses\\).*; repair order \\1 is closed \\(customer\\) and its escrow was refunded\\n$`),
    );
    const spent = before - (await getAccount(client, { address: cust })).balance;
    assert.ok(spent < 50_000n, `only fees and a block or two of one lease: ${spent} ugw`);
    assert.deepEqual((await getDeal(client, { order: orderA }))?.shards.map((s) => s.status), ['active', 'lost', 'active']);

    // --- The customer's own repair worker (`--watch 1`), started while shard 1 is lost and only
    // holders bid (its attempts fail, each order closed and refunded, and it keeps going); once the
    // first holder's agent is back — it holds no shard of A any more — the watcher repairs shard 1
    // onto it by itself. Ctrl-C ends the watch (exit 0).
    const watcher = spawnCli(['--home', home, '--node', net.node.url, 'store', 'repair', putA.order, '--watch', '1', '--bid-window', '20']);
    try {
      await watcher.waitFor(new RegExp(`watching deal ${putA.order} every 1 s`), 30_000);
      await victim.start();
      await watcher.waitFor(new RegExp(`Repaired deal ${putA.order} \\(a\\.bin\\): 1 shard\\(s\\) on new providers, 3 of 3 active`), 150_000);
      const healed = await getDeal(client, { order: orderA });
      assert.deepEqual(healed?.shards.map((s) => s.status), ['active', 'active', 'active']);
      assert.equal(healed?.shards[1]?.provider, victim.address, 'shard 1 went to the provider that came back');
      watcher.proc.kill('SIGINT');
      assert.equal(await watcher.exited, 0, watcher.out());
    } finally {
      if (watcher.proc.exitCode === null) await watcher.kill9();
    }

    process.stderr.write(`store-repair: setup ${setupMs} ms, repair ${repairMs} ms, total ${Date.now() - started} ms\n`);
  } finally {
    await net.close();
  }
});
