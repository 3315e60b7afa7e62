/**
 * The provider agent with real processes: a node, the `groundwork provider start` daemon (spawned
 * like the CLI), and a customer signing real txs. The agent registers the operator, bids on a
 * customer's order, passes on one it cannot afford to serve (PRICE_ABOVE_MAX), takes the lease at
 * window close, withdraws earnings; is killed (SIGKILL) and restarted and finds its lease without
 * bidding twice; forgets its state file and adopts the lease back from the chain; and, restarted
 * after the customer closed the lease while it was down, releases it with the close reason.
 * /metrics answers with the counters throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cliIn, freePort, setupOperator, spawnCli, tempDir, type LiveProcess, type NodeProcess } from '../src/testkit/index.js';
import { createClient } from '../src/client/client.js';
import { Keyring } from '../src/client/keyring.js';
import { moduleQuery } from '../src/client/actions/moduleQuery.js';
import { signAndSend } from '../src/client/actions/signAndSend.js';

interface Agent extends LiveProcess {
  log(): string;
  metricsUrl: string;
}

/** `groundwork provider start`, once it says it runs (and where its metrics are). */
async function startAgent(home: string): Promise<Agent> {
  const p = spawnCli(['--home', home, 'provider', 'start']);
  const running = await p.waitFor(/provider-agent-running .*metrics=(http:\/\/[0-9.]+:[0-9]+)/);
  return { ...p, log: p.out, metricsUrl: running[1] as string };
}

async function metrics(url: string): Promise<Map<string, bigint>> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const m = new Map<string, bigint>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), BigInt(line.slice(i + 1)));
  }
  return m;
}

test('provider agent: bids, wins a lease, withdraws, survives kill -9 without duplicates, releases a lease closed while down', { timeout: 300_000 }, async () => {
  const dir = tempDir('gw-provider-');
  const home = dir.path;
  let node: NodeProcess | undefined;
  let agent: Agent | undefined;
  const { json } = cliIn(home);
  try {
    const setup = await setupOperator(home, {
      chainId: 'provider-e2e',
      hostUri: 'http://127.0.0.1:8700',
      metricsListen: `127.0.0.1:${await freePort()}`,
      config: { attributes: { region: 'eu-west' }, pricing: { type: 'fixed', price: '900' }, withdrawEveryBlocks: 10, reconcileEveryBlocks: 25 },
    });
    const live = setup.node;
    node = live;
    const { n, prov, device } = setup;
    const gPath = setup.genesisPath;
    const client = createClient({ url: live.url, genesis: new Uint8Array(readFileSync(gPath)) });
    const cust = new Keyring(join(home, 'keyring')).signer('cust');
    const order = (maxPrice: bigint) =>
      signAndSend(client, {
        signer: cust,
        msgs: [
          {
            type: 'market/create-order',
            value: {
              spec: { type: 'storage', value: { bytes: 1n << 30n, durationBlocks: 100_000n } },
              replicas: 1,
              region: [],
              attributes: [{ key: 'region', value: 'eu-west' }],
              minReputationBps: 0,
              maxPrice,
              denom: 'ugw',
              deposit: 50_000_000n,
              bidWindowBlocks: 6n,
            },
          },
        ],
      });
    const q = <T>(query: string, args: Record<string, string>) => moduleQuery<T>(client, 'market', query, args);

    // 1. Start: registers the operator as a provider.
    agent = await startAgent(home);
    await agent.waitFor(/provider-registered reason=missing/);
    await agent.waitFor(/reconciled why=start/);
    const rec = await q<{ hostUri: string; attributes: unknown }>('provider', { address: prov });
    assert.equal(rec.hostUri, 'http://127.0.0.1:8700');
    assert.deepEqual(rec.attributes, [{ key: 'region', value: 'eu-west' }]);

    // 2. Orders: one it bids on (fixed 900 ≤ max 1000), one it passes on (max 500).
    await order(1000n);
    await order(500n);
    await agent.waitFor(/INFO {2}bid order=1 price=900 denom=ugw strategy=fixed/);
    await agent.waitFor(/skip order=2 reason=PRICE_ABOVE_MAX/);
    const bids = await q<{ bids: Array<{ provider: string; price: string; device: string }> }>('bids', { order: '1' });
    assert.deepEqual(bids.bids.map((b) => [b.provider, b.price, b.device]), [[prov, '900', device]]);

    // 3. The window closes: the lease is made and the agent takes it (from the end-block event).
    const adopted = await agent.waitFor(/lease-adopted lease=([0-9]+) order=1 .*source=event/, 60_000);
    const leaseId = adopted[1] as string;
    const lease = await q<{ status: string; provider: string; price: string }>('lease', { id: leaseId });
    assert.deepEqual([lease.status, lease.provider, lease.price], ['active', prov, '900']);

    // 4. Earnings are withdrawn every 10 blocks.
    const w = await agent.waitFor(/INFO {2}withdraw amount=([0-9]+)/, 60_000);
    assert.ok(BigInt(w[1] as string) > 0n);
    let m = await metrics(agent.metricsUrl);
    assert.equal(m.get('groundwork_provider_bids_total'), 1n);
    assert.equal(m.get('groundwork_provider_leases_active'), 1n);
    assert.equal(m.get('groundwork_provider_skipped_total{reason="PRICE_ABOVE_MAX"}'), 1n);
    assert.ok((m.get('groundwork_provider_earnings_withdrawn_ugw_total') ?? 0n) > 0n);
    assert.ok((m.get('groundwork_provider_orders_seen_total') ?? 0n) >= 2n);
    assert.ok((m.get('groundwork_provider_chain_height') ?? 0n) > 0n);
    assert.ok((m.get('groundwork_provider_reconcile_total') ?? 0n) >= 1n);
    assert.equal(m.get('groundwork_provider_ws_reconnects_total'), 0n);

    // `provider status`: the chain's record and the agent's endpoint.
    const st = await json([...n, 'provider', 'status']);
    assert.equal(st.registered, true);
    assert.equal((st.activeLeases as unknown[]).length, 1);
    assert.equal((st.agent as { up: boolean }).up, true);
    assert.deepEqual(Object.keys((st.agent as { status: { leases: object } }).status.leases), [leaseId]);

    // 5. kill -9 and restart: the lease is found in place, nothing is bid twice.
    await agent.kill9();
    agent = await startAgent(home);
    await agent.waitFor(/reconciled why=start height=[0-9]+ leases=1 bids=0 changes=0/);
    m = await metrics(agent.metricsUrl);
    assert.equal(m.get('groundwork_provider_leases_active'), 1n);
    assert.equal(m.get('groundwork_provider_bids_total'), 0n);
    const status = (await (await fetch(`${agent.metricsUrl}/status`)).json()) as { leases: Record<string, unknown> };
    assert.deepEqual(Object.keys(status.leases), [leaseId]);
    assert.doesNotMatch(agent.log(), /INFO {2}bid order=/);

    // 6. The state file lost (kill -9, then deleted): the lease is adopted back from the chain.
    await agent.kill9();
    rmSync(join(home, 'provider-state', 'state.json'));
    agent = await startAgent(home);
    await agent.waitFor(new RegExp(`lease-adopted lease=${leaseId} order=1 .*source=reconcile`));
    await agent.waitFor(/reconciled why=start .*leases=1/);
    assert.equal((await metrics(agent.metricsUrl)).get('groundwork_provider_leases_adopted_total'), 1n);

    // 7. Closed while the agent is down: released on restart with the chain's reason.
    await agent.kill9();
    await signAndSend(client, { signer: cust, msgs: [{ type: 'market/close-lease', value: { lease: BigInt(leaseId), reason: 'customer' } }] });
    agent = await startAgent(home);
    await agent.waitFor(new RegExp(`lease-closed lease=${leaseId} order=1 reason=customer .*source=reconcile`));
    m = await metrics(agent.metricsUrl);
    assert.equal(m.get('groundwork_provider_leases_active'), 0n);
    assert.equal(m.get('groundwork_provider_leases_closed_total{reason="customer"}'), 1n);

    // 8. A clean stop on SIGTERM; the chain saw one bid and one lease for the order.
    assert.equal(await agent.stop(), 0);
    assert.match(agent.log(), /provider-agent-stopped/);
    const o1 = await q<{ leases: unknown[]; bidCount: number }>('order', { id: '1' });
    assert.equal(o1.leases.length, 1);
  } finally {
    await agent?.kill9();
    await node?.kill9();
    dir.cleanup();
  }
});
