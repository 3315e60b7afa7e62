/**
 * The market's acceptance walk-through with real processes, as a new user meets it: `groundwork
 * devnet start` (what `npm start` runs) brings up the node and six provider agents (p1 at 900,
 * p2 at 800, … p6 at 400 ugw per block); a customer posts an order from the CLI, sees every bid,
 * gets the cheapest one's lease, watches it accrue block by block, kills the winning agent with kill -9 and
 * restarts it by hand (the lease is found again, nothing is bid twice), then lets the escrow run
 * dry: the lease closes with reason insufficient-funds, on chain and in the agent's log. Ctrl-C
 * (SIGTERM) stops the devnet and its agents cleanly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, freePort, spawnCli, tempDir, type LiveProcess } from '../src/testkit/index.js';
import { isAlive } from '../src/devnet/testnet.js';

type J = Record<string, unknown>;

type Proc = LiveProcess;

const start = (args: string[]): Proc => spawnCli(args);


async function gone(pid: number, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return !isAlive(pid);
}

/** The pid in a provider home's state lock (the running agent), if any. */
function agentPid(pHome: string): number | undefined {
  const f = join(pHome, 'provider-state', 'agent.pid');
  return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : undefined;
}

async function metrics(url: string): Promise<Map<string, bigint>> {
  const m = new Map<string, bigint>();
  for (const line of (await (await fetch(`${url}/metrics`)).text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), BigInt(line.slice(i + 1)));
  }
  return m;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('market on the devnet: order from the CLI, two agents bid, the cheaper wins, payment streams, kill -9 and restart keeps the lease, escrow runs dry', { timeout: 180_000 }, async () => {
  const dir = tempDir('gw-market-e2e-');
  const home = dir.path;
  // p5 (500 ugw per block) loses to p6 (400), the cheapest.
  const p1Home = join(home, 'providers', 'p5');
  const p2Home = join(home, 'providers', 'p6');
  let devnet: Proc | undefined;
  let restarted: Proc | undefined;
  const run = async (args: string[]) => {
    const r = await cli(args, { home });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const json = async <T = J>(args: string[]) => JSON.parse((await run([...args, '--json'])).stdout) as T;
  try {
    // 1. `devnet start` on a new home: node, then six provider agents set up with real txs.
    const port = await freePort();
    devnet = start(['--home', home, 'devnet', 'start', '--block-time', '250', '--api-port', String(port)]);
    await devnet.waitFor(/Ctrl-C stops the network and its providers/, 60_000);
    const banner = devnet.out();
    assert.match(banner, /Providers \(6 agents/);
    const row = (name: string) => new RegExp(`${name} +(gw1[0-9a-z]+) +key provider-\\d +fixed (\\d+) ugw/block .* running \\(pid (\\d+)\\)`).exec(banner);
    const r1 = row('p5');
    const r2 = row('p6');
    assert.ok(r1 && r2, banner);
    const [p1, p2] = [r1[1] as string, r2[1] as string];
    assert.deepEqual([r1[2], r2[2]], ['500', '400']);
    assert.match(banner, new RegExp(`log ${join(p2Home, 'agent.log')}`));
    assert.match(banner, new RegExp(`groundwork provider start --home ${p2Home}`));
    assert.equal(agentPid(p2Home), Number(r2[3]));

    const n = ['--node', `http://127.0.0.1:${port}`];
    await run(['keys', 'add', 'customer', '--keyring-backend', 'test']);
    await run([...n, 'bank', 'send', 'faucet', 'customer', '100gw']);

    // 2. The order: at most 1000 ugw per block; 48,000 ugw of escrow is 120 blocks at 400.
    const created = await json([...n, 'market', 'order', 'create', 'customer', '--kind', 'storage', '--size', '10GiB', '--duration', '1000', '--max-price', '1000ugw', '--deposit', '48000ugw', '--bid-window', '20']);
    const orderId = String(created.order);

    // 3. Every agent bids (within a block or two; the window is 20 blocks, 5 s); the list is cheapest first.
    const listed = await until('six bids', async () => {
      const human = (await run([...n, 'market', 'bid', 'list', orderId])).stdout;
      return /6 bid\(s\)/.test(human) ? human : undefined;
    });
    assert.match(listed, /cheapest first[\s\S]*0\.0004 GW\/block[\s\S]*0\.0005 GW\/block/);
    const bids = (await json<{ bids: Array<{ provider: string; price: string }> }>([...n, 'market', 'bid', 'list', orderId])).bids;
    assert.deepEqual(bids.map((b) => b.price), ['400', '500', '600', '700', '800', '900']);
    assert.deepEqual(bids.slice(0, 2).map((b) => b.provider), [p2, p1]);

    // 4. The window closes: the cheaper provider (p2, 800) holds the lease.
    const order = await until('the lease', async () => {
      const o = await json<{ order: J; leases: Array<{ id: string; provider: string; price: string; status: string }> }>([...n, 'market', 'order', 'show', orderId]);
      return o.order.status === 'open' ? undefined : o;
    });
    assert.equal(order.order.status, 'active');
    assert.equal(order.leases.length, 1);
    const lease = order.leases[0] as { id: string; provider: string; price: string; status: string };
    assert.deepEqual([lease.provider, lease.price, lease.status], [p2, '400', 'active']);
    const leaseId = lease.id;
    const p2Log = () => readFileSync(join(p2Home, 'agent.log'), 'utf8');
    await until('p6 adopts the lease', async () => (new RegExp(`lease-adopted lease=${leaseId} order=${orderId} .*price=400`).test(p2Log()) ? true : undefined), 20_000);
    await until('p5 forgets its lost bid', async () => (new RegExp(`bid-forgotten order=${orderId} reason=lost`).test(readFileSync(join(p1Home, 'agent.log'), 'utf8')) ? true : undefined), 20_000);

    // 5. Payment streams block by block: paid (as of the last settlement) + owed now grows.
    type Shown = { status: string; paid: string; settlement: { owed: string; height: string; dryHeight: string | null } };
    const s1 = await json<Shown>([...n, 'lease', 'show', leaseId]);
    await new Promise((r) => setTimeout(r, 1500));
    const s2 = await json<Shown>([...n, 'lease', 'show', leaseId]);
    assert.equal(s2.status, 'active');
    assert.ok(BigInt(s2.settlement.height) > BigInt(s1.settlement.height), 'blocks went by');
    const accrued = (s: Shown) => BigInt(s.paid) + BigInt(s.settlement.owed);
    assert.ok(accrued(s2) > accrued(s1), `paid + owed grows: ${accrued(s1)} → ${accrued(s2)}`);
    assert.ok(s2.settlement.dryHeight !== null && BigInt(s2.settlement.dryHeight) > BigInt(s2.settlement.height));
    assert.match((await run([...n, 'lease', 'show', leaseId])).stdout, /paid: +[0-9.]+ GW so far[\s\S]*owed now: +[0-9.]+ GW accrued[\s\S]*escrow dry: +at height \d+, in \d+ blocks/);

    // 6. kill -9 the winning agent, restart it by hand: the lease is found again, no new bid.
    const pid2 = agentPid(p2Home) as number;
    process.kill(pid2, 'SIGKILL');
    assert.ok(await gone(pid2), 'p6 agent killed');
    restarted = start(['--home', p2Home, 'provider', 'start']);
    const running = await restarted.waitFor(/provider-agent-running .*metrics=(http:\/\/[0-9.]+:[0-9]+)/);
    await restarted.waitFor(/reconciled why=start height=\d+ leases=1 bids=0 changes=0/);
    const m = await metrics(running[1] as string);
    assert.equal(m.get('groundwork_provider_leases_active'), 1n);
    assert.equal(m.get('groundwork_provider_bids_total'), 0n);
    const status = (await (await fetch(`${running[1] as string}/status`)).json()) as { leases: Record<string, unknown> };
    assert.deepEqual(Object.keys(status.leases), [leaseId]);
    const st = await json<{ activeLeases: Array<{ id: string }>; agent: { up: boolean } }>(['--home', p2Home, 'provider', 'status']);
    assert.deepEqual(st.activeLeases.map((l) => l.id), [leaseId]);
    assert.equal(st.agent.up, true);

    // 7. The escrow runs dry: the lease closes with its reason, on chain and in the agent's log.
    const closed = await restarted.waitFor(new RegExp(`lease-closed lease=${leaseId} order=${orderId} reason=insufficient-funds`), 90_000);
    assert.match(closed[0], /reason=insufficient-funds/);
    const end = await json<{ status: string; closeReason: string; paid: string }>([...n, 'lease', 'show', leaseId]);
    assert.deepEqual([end.status, end.closeReason], ['closed', 'insufficient-funds']);
    assert.ok(BigInt(end.paid) > 0n && BigInt(end.paid) <= 48_000n);
    assert.match((await run([...n, 'lease', 'show', leaseId])).stdout, /status: +closed at height \d+ \(insufficient-funds\)/);
    const o = await json<{ order: J; leases: unknown[] }>([...n, 'market', 'order', 'show', orderId]);
    assert.equal(o.order.status, 'closed');
    assert.equal(o.order.closeReason, 'insufficient-funds');
    assert.equal(o.leases.length, 1, 'one lease for the order: nothing duplicated');
    assert.doesNotMatch(restarted.out(), /INFO {2}bid order=/);
    assert.equal((await metrics(running[1] as string)).get('groundwork_provider_leases_closed_total{reason="insufficient-funds"}'), 1n);

    restarted.proc.kill('SIGTERM');
    assert.equal(await restarted.exited, 0);
    assert.match(restarted.out(), /provider-agent-stopped/);

    // 8. Ctrl-C (SIGTERM) stops the devnet with the agent it still runs (p1), cleanly; it saw p2's die.
    assert.match(devnet.out(), /devnet-provider-exited provider=p6 .*signal=SIGKILL/);
    const pid1 = agentPid(p1Home) as number;
    assert.ok(isAlive(pid1));
    devnet.proc.kill('SIGTERM');
    assert.equal(await devnet.exited, 0);
    assert.ok(await gone(pid1, 5_000), 'p5 agent stopped with the devnet');
    assert.match(readFileSync(join(p1Home, 'agent.log'), 'utf8'), /provider-agent-stopped/);
  } finally {
    if (restarted && restarted.proc.exitCode === null) restarted.proc.kill('SIGKILL');
    if (devnet && devnet.proc.exitCode === null) {
      devnet.proc.kill('SIGTERM');
      await Promise.race([devnet.exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (devnet.proc.exitCode === null) devnet.proc.kill('SIGKILL');
    }
    for (const p of [p1Home, p2Home]) {
      const pid = agentPid(p);
      if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    dir.cleanup();
  }
});
