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
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliIn, freePort, spawnCli, startNode, tempDir, type LiveProcess, type NodeProcess } from '../src/testkit/index.js';
import { createClient, type Client } from '../src/client/client.js';
import { Keyring } from '../src/client/keyring.js';
import { closeLease } from '../src/client/actions/closeLease.js';
import { getAccount } from '../src/client/actions/getAccount.js';
import { getDeal } from '../src/client/actions/getDeal.js';
import { getLease } from '../src/client/actions/getLease.js';
import { signAndSend } from '../src/client/actions/signAndSend.js';
import { signDeviceConsent } from '../src/client/actions/signDeviceConsent.js';
import { signMakerApproval } from '../src/client/actions/signMakerApproval.js';
import type { StorageDeal } from '../src/client/storageViews.js';
import { fromHex, toHex } from '../src/core/bytes.js';
import { sha256 } from '../src/core/hash.js';
import { decodeAddress, Ed25519Key } from '../src/core/keys.js';
import { NO_CAPABILITIES } from '../src/chain/modules/devices/types.js';
import { initHome } from '../src/devnet/init.js';
import { homePaths } from '../src/node/home.js';
import { defaultConfigJSON } from '../src/provider/config.js';

const CHAIN = 'store-repair-e2e';
const FUNDS = 1_000_000_000n; // 1000 GW each
const PRICES = [900, 800, 700, 950];

type J = Record<string, unknown>;

async function waitForDeal(client: Client, order: bigint, what: string, ok: (d: StorageDeal) => boolean, timeoutMs = 30_000): Promise<StorageDeal> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = await getDeal(client, { order });
    if (d && ok(d)) return d;
    if (Date.now() > until) assert.fail(`deal ${order}: ${what} not within ${timeoutMs} ms: ${JSON.stringify(d?.shards.map((s) => s.status))}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('store repair: a lost shard is rebuilt from k healthy ones onto a provider that holds none, same root; the file comes back with another holder down', { timeout: 150_000 }, async () => {
  const dir = tempDir('gw-store-repair-');
  const home = dir.path;
  let node: NodeProcess | undefined;
  const agents: LiveProcess[] = [];
  const { run, json } = cliIn(home);
  const started = Date.now();
  try {
    // --- A chain with a customer, a maker and four funded providers.
    const kr = new Keyring(homePaths(home).keyring);
    const cust = kr.add('cust', { backend: 'test' }).info.address;
    const maker = kr.add('acme', { backend: 'test' });
    const provs = PRICES.map((price, i) => ({ i, price, name: `p${i + 1}`, address: kr.add(`p${i + 1}`, { backend: 'test' }).info.address, device: Ed25519Key.generate() }));
    initHome({
      home,
      chainId: CHAIN,
      blockIntervalMs: 200,
      apiPort: 0,
      force: false,
      extraBalances: [cust, ...provs.map((p) => p.address)].map((a) => [a, FUNDS] as const),
      params: { storage: { periodBlocks: '20' } },
    });
    const gPath = homePaths(home).genesis;
    const g = JSON.parse(readFileSync(gPath, 'utf8')) as { app: J };
    g.app.devices = { makers: [{ name: 'acme', pubKey: maker.info.publicKey }] };
    g.app.credits = { balances: provs.map((p) => ({ address: p.address, amount: '100000000' })) };
    writeFileSync(gPath, JSON.stringify(g, null, 2));
    node = await startNode(home);
    const n = ['--node', node.url];
    const genesisBytes = new Uint8Array(readFileSync(gPath));
    const client = createClient({ url: node.url, genesis: genesisBytes });

    await Promise.all(
      provs.map((p) =>
        signAndSend(client, {
          signer: kr.signer(p.name),
          timeoutMs: 30_000,
          msgs: [
            { type: 'staking/delegate', value: { operator: decodeAddress(p.address), amount: 150_000_000n } },
            {
              type: 'devices/onboard',
              value: {
                kind: 'storage',
                deviceKey: p.device.publicKey,
                maker: 'acme',
                makerSignature: fromHex(signMakerApproval(kr.signer('acme'), { chainId: CHAIN, kind: 'storage', deviceKey: toHex(p.device.publicKey) })),
                deviceSignature: fromHex(signDeviceConsent(p.device, { chainId: CHAIN, owner: p.address })),
                capabilities: { ...NO_CAPABILITIES, capacityBytes: 1n << 40n, bandwidthMbps: 1000 },
              },
            },
          ],
        }),
      ),
    );
    for (const p of provs) {
      const pHome = join(home, p.name);
      mkdirSync(pHome);
      const c = {
        ...defaultConfigJSON(),
        node: node.url,
        genesisHash: toHex(sha256(genesisBytes)),
        key: p.name,
        keyringBackend: 'test',
        keyringDir: homePaths(home).keyring,
        hostUri: `http://127.0.0.1:${await freePort()}`,
        devices: [toHex(p.device.publicKey)],
        pricing: { type: 'fixed', price: String(p.price) },
        metricsListen: '',
        storage: { capacityBytes: 64 << 20, proverPollMs: 300 },
      };
      writeFileSync(join(pHome, 'provider.json'), JSON.stringify(c, null, 2));
      agents.push(spawnCli(['--home', pHome, 'provider', 'start']));
    }
    await Promise.all(agents.map((a) => a.waitFor(/reconciled why=start/, 30_000)));
    const setupMs = Date.now() - started;

    // --- Two files under 2+1: A (two segments of 1 MiB pieces) and a small B. Both go to p1-p3.
    const put = ['store', 'put', '--key', 'cust', '--duration', '10000', '--max-price', '1000ugw', '--bid-window', '3', '--k', '2', '--m', '1'];
    const fileA = join(home, 'a.bin');
    const dataA = randomBytes(3 * 1024 * 1024 + 4321);
    writeFileSync(fileA, dataA);
    const fileB = join(home, 'b.bin');
    writeFileSync(fileB, randomBytes(10_000));
    // One after the other: both sign with the customer's account (one sequence).
    const putA = await json<{ order: string; manifest: string; leases: Array<{ shard: number; provider: string; lease: string }> }>([...n, ...put, fileA]);
    const putB = await json<{ order: string; leases: Array<{ shard: number; provider: string; lease: string }> }>([...n, ...put, fileB]);
    const original = new Set(provs.slice(0, 3).map((p) => p.address));
    assert.deepEqual(new Set(putA.leases.map((l) => l.provider)), original, 'the three cheapest hold deal A');
    assert.deepEqual(new Set(putB.leases.map((l) => l.provider)), original, 'and deal B');
    const orderA = BigInt(putA.order);
    const orderB = BigInt(putB.order);
    const roots = (JSON.parse(readFileSync(putA.manifest, 'utf8')) as { roots: string[] }).roots;
    const fresh = provs[3] as (typeof provs)[number];

    // --- Nothing lost: nothing to do, nothing bought (exit 0).
    const nothing = await run([...n, 'store', 'repair', putA.order]);
    assert.match(nothing.stdout, new RegExp(`deal ${putA.order}: nothing to repair: no shard is lost \\(3 of 3 active\\)`));
    assert.deepEqual((await json<{ lost: number[]; repairOrder: null }>([...n, 'store', 'repair', putA.order])).lost, []);

    // --- The holder of data shard 0 dies for good; its operator closes its leases. In deal B the
    // customer also ends the shard of another provider: B keeps one active shard of the two needed.
    const victim = provs.find((p) => p.address === putA.leases[0]!.provider) as (typeof provs)[number];
    await agents[victim.i]!.kill9();
    for (const l of [...putA.leases, ...putB.leases].filter((x) => x.provider === victim.address)) {
      await closeLease(client, { signer: kr.signer(victim.name), lease: BigInt(l.lease), timeoutMs: 30_000 });
    }
    const otherB = putB.leases.find((x) => x.provider !== victim.address) as (typeof putB.leases)[number];
    await closeLease(client, { signer: kr.signer('cust'), lease: BigInt(otherB.lease), timeoutMs: 30_000 });
    const lostA = await waitForDeal(client, orderA, 'shard 0 lost', (d) => d.shards[0]?.status === 'lost');
    assert.deepEqual(lostA.shards.map((s) => s.status), ['lost', 'active', 'active']);
    await waitForDeal(client, orderB, 'one shard left', (d) => d.shards.filter((s) => s.status === 'active').length === 1);

    // --- B cannot be repaired: one active shard, two needed (exit 1, one line, nothing bought).
    const custBefore = (await getAccount(client, { address: cust })).balance;
    const cannot = await run([...n, 'store', 'repair', putB.order], false);
    assert.match(cannot.stderr, new RegExp(`^error: cannot repair deal ${putB.order}: only 1 of its 3 shards are active and 2 are needed to rebuild the lost ones \\(shard [0-2]\\); the file cannot be recovered from the network\\n$`));
    assert.equal((await getAccount(client, { address: cust })).balance, custBefore, 'nothing was spent');

    // --- Repair A: shard 0 rebuilt and put on the fourth provider, the only one holding no shard
    // of A (the surviving holders bid 700 and 800, cheaper than its 950).
    const repairStarted = Date.now();
    // A 4 s bid window: the accept must land before it closes even on a loaded machine.
    const rep = await run([...n, 'store', 'repair', putA.order, '--bid-window', '20']);
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

    const st = await json<{ deal: { repairs: number; reserve: string; shards: Array<{ status: string; provider: string; root: string; lease: string }> }; health: string }>([...n, 'store', 'status', putA.order]);
    assert.deepEqual(st.deal.shards.map((s) => s.status), ['active', 'active', 'active']);
    assert.deepEqual(st.deal.shards.map((s) => s.root), roots, 'the same roots');
    assert.equal(st.deal.shards[0]!.provider, fresh.address);
    assert.equal(st.deal.shards[0]!.lease, line[1]);
    assert.deepEqual([st.deal.repairs, st.deal.reserve], [1, '0']);
    assert.match(st.health, /^healthy/);
    assert.match((await run([...n, 'store', 'repair', putA.order])).stdout, /nothing to repair/);

    // --- Another original holder down: shard 0 must now come from the fourth provider.
    const second = provs.find((p) => p.address === putA.leases[1]!.provider) as (typeof provs)[number];
    await agents[second.i]!.kill9();
    const out = join(home, 'a.out');
    const got = await json<{ failedShards: number[]; bytes: number }>([...n, 'store', 'get', putA.order, '-o', out]);
    assert.ok(readFileSync(out).equals(dataA), 'the file comes back byte for byte');
    assert.deepEqual(got.failedShards, [1]);

    // --- That holder's shard lost too: every provider still bidding now holds a shard of A, so
    // the market's lease goes to a holder, is closed again, and the repair fails with the escrow back.
    for (const l of putA.leases.filter((x) => x.provider === second.address)) {
      await closeLease(client, { signer: kr.signer(second.name), lease: BigInt(l.lease), timeoutMs: 30_000 });
    }
    await waitForDeal(client, orderA, 'shard 1 lost', (d) => d.shards[1]?.status === 'lost');
    const before = (await getAccount(client, { address: cust })).balance;
    const none = await run([...n, 'store', 'repair', putA.order], false);
    assert.match(none.stderr, /closed lease [0-9]+ of gw1[0-9a-z]+: the provider already holds a shard of the deal/);
    assert.match(
      none.stderr,
      new RegExp(`error: no provider outside deal ${putA.order}'s current holders took repair order ([0-9]+) \\(1 lease\\(s\\) went to providers already holding a shard, which the chain refuses\\).*; repair order \\1 is closed \\(customer\\) and its escrow was refunded\\n$`),
    );
    const spent = before - (await getAccount(client, { address: cust })).balance;
    assert.ok(spent < 50_000n, `only fees and a block or two of one lease: ${spent} ugw`);
    assert.deepEqual((await getDeal(client, { order: orderA }))?.shards.map((s) => s.status), ['active', 'lost', 'active']);

    process.stderr.write(`store-repair: setup ${setupMs} ms, repair ${repairMs} ms, total ${Date.now() - started} ms\n`);
  } finally {
    await Promise.all(agents.map((a) => a.kill9()));
    await node?.kill9();
    dir.cleanup();
  }
});
