/**
 * Verifiable rewards through the real CLI and a real node: with 10-block epochs, the faucet
 * delegates to the devnet validator and earns from the stakers pool; once an epoch closes,
 * `rewards epoch` shows its record, `rewards explain` recomputes the faucet's line from state at
 * the close and checks it against the committed root, `rewards claim` pays exactly the line, a
 * second claim fails with ALREADY_CLAIMED; an address with no line, an epoch still running and
 * a node that alters a line all give one clear line and exit 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '../src/core/bytes.js';
import { Ed25519Key } from '../src/core/keys.js';
import { signTestReport } from '../src/chain/modules/testvertical/types.js';
import { createClient } from '../src/client/client.js';
import { Keyring } from '../src/client/keyring.js';
import { signAndSend } from '../src/client/actions/signAndSend.js';
import { homePaths } from '../src/node/home.js';
import { cli, startNode, tempDir } from '../src/testkit/index.js';

/** An HTTP proxy to `target` that adds 1 ugw to every reward line it serves (a lying node). */
function lyingProxy(target: string): Promise<{ url: string; server: Server }> {
  const t = new URL(target);
  const server = createServer((req, res) => {
    const up = httpRequest({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (d: Buffer) => chunks.push(d));
      r.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.url?.startsWith('/v1/rewards/') && r.statusCode === 200) {
          const j = JSON.parse(body.toString()) as { lines: Array<{ amount: string }> };
          for (const l of j.lines) l.amount = String(BigInt(l.amount) + 1n);
          body = Buffer.from(JSON.stringify(j));
        }
        const headers = { ...r.headers, 'content-length': String(body.length) };
        res.writeHead(r.statusCode ?? 500, headers);
        res.end(body);
      });
    });
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server })));
}

test('rewards CLI: epoch, show, explain against the root, claim once, pending, clear errors', { timeout: 180_000 }, async () => {
  const dir = tempDir('gw-rewards-cli-');
  const home = dir.path;
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  let proxy: Server | undefined;
  try {
    const init = await cli(['init', '--chain-id', 'rewards-cli', '--block-time', '200', '--json'], { home });
    assert.equal(init.code, 0, init.stderr);
    const faucet = JSON.parse(init.stdout).faucetAddress as string;
    const gPath = join(home, 'genesis.json');
    const g = JSON.parse(readFileSync(gPath, 'utf8'));
    // bob will own a device (onboarding burns Data Credits; acme is the approved maker).
    const bob = JSON.parse((await cli(['keys', 'add', 'bob', '--keyring-backend', 'test', '--json'], { home })).stdout).address as string;
    const acme = JSON.parse((await cli(['keys', 'add', 'acme', '--keyring-backend', 'test', '--json'], { home })).stdout).publicKey as string;
    g.app = { ...g.app, epochs: { params: { blocksPerEpoch: '10' } }, devices: { makers: [{ name: 'acme', pubKey: acme }] }, credits: { balances: [{ address: bob, amount: '10000000' }] } };
    writeFileSync(gPath, JSON.stringify(g, null, 2));
    const operator = g.app.staking.operators[0].address as string;

    node = await startNode(home);
    const run = (args: string[]) => cli(['--node', (node as { url: string }).url, ...args], { home });
    const json = async <T>(args: string[]): Promise<T> => {
      const r = await run([...args, '--json']);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    };
    const alice = JSON.parse((await cli(['keys', 'add', 'alice', '--keyring-backend', 'test', '--json'], { home })).stdout).address as string;

    // The running epoch.
    const running = await run(['rewards', 'epoch']);
    assert.equal(running.code, 0, running.stderr);
    assert.match(running.stdout, /epoch \d+ \(running\): heights \d+–\d+, \d+ blocks left/);
    assert.match(running.stdout, /expected emission: +100,000 GW/);
    assert.match(running.stdout, /work units so far: +storage 0, compute 0, coverage 0/);

    // The faucet bonds stake; wait for an epoch closing after it to list its line as pending.
    await json(['staking', 'delegate', 'faucet', operator, '1000gw']);
    let pending: { pending: Array<{ epoch: string; amount: string; index: number }> } = { pending: [] };
    for (let i = 0; i < 100 && pending.pending.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const r = await run(['rewards', 'pending', 'faucet', '--json']);
      if (r.code === 0) pending = JSON.parse(r.stdout);
      else assert.match(r.stderr, /no epoch has closed yet/);
    }
    const first = pending.pending[0];
    assert.ok(first, 'an epoch closed with a line for the faucet');
    const epoch = first.epoch;

    // The closed epoch's record (verified).
    const rec = await json<{ status: string; root: string; lines: number; emission: string; pools: Array<{ pool: string; alloc: string; units: string; paid: string }>; verified: boolean }>(['rewards', 'epoch', epoch]);
    assert.equal(rec.status, 'closed');
    assert.equal(rec.verified, true);
    assert.equal(rec.lines, 2, 'the validator (self-bond) and the faucet');
    // (bob's work, reported later, shows in a later epoch.)
    assert.equal(rec.emission, '100000000000');
    const stakers = rec.pools.find((p) => p.pool === 'stakers');
    assert.equal(stakers?.alloc, '15000000000');
    const human = await run(['rewards', 'epoch', epoch]);
    assert.match(human.stdout, new RegExp(`root: +${rec.root}`));
    assert.match(human.stdout, /storage +alloc +30,000 GW .*nobody earned: not issued/);
    assert.match(human.stdout, /unissued: +75,000 GW/);

    // show: the line, verified.
    const show = await json<{ amount: string; index: number; claimed: boolean; verified: boolean; items: Array<{ type: string; operator: string; tokens: string }> }>(['rewards', 'show', 'faucet', '--epoch', epoch]);
    assert.equal(show.amount, first.amount);
    assert.equal(show.claimed, false);
    assert.equal(show.verified, true);
    assert.deepEqual(show.items, [{ type: 'stake', pool: 'stakers', operator, tokens: '1000000000' }]);

    // explain: recomputed from state at the close, checked against the root.
    const ex = await run(['rewards', 'explain', 'faucet', '--epoch', epoch]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stdout, /✓ matches the committed root/);
    assert.match(ex.stdout, /stakers +operator gw1.* +stake +1,000 GW/);
    assert.match(ex.stdout, /stakers +floor\(15,000 GW × 1,000 GW ÷ [0-9,]+ GW\) = /);
    for (const id of ['details', 'work', 'stake', 'amount', 'root']) assert.match(ex.stdout, new RegExp(`✓ ${id} `));
    const exj = await json<{ ok: boolean; amount: string; recomputed: string; checks: Array<{ id: string; ok: boolean }>; items: Array<{ check: { ok: boolean } }> }>(['rewards', 'explain', 'faucet', '--epoch', epoch]);
    assert.equal(exj.ok, true);
    assert.equal(exj.recomputed, exj.amount);
    assert.ok(exj.checks.every((c) => c.ok === true));
    assert.equal(exj.items[0]?.check.ok, true);

    // claim: pays the line (less the fee), once.
    const bal = async () => BigInt((await json<{ balance: string }>(['query', 'balance', faucet])).balance);
    const before = await bal();
    const claim = await json<{ amount: string; fee: string; status: string; index: number }>(['rewards', 'claim', 'faucet', '--epoch', epoch]);
    assert.equal(claim.status, 'committed');
    assert.equal(claim.amount, first.amount);
    assert.equal(await bal(), before + BigInt(claim.amount) - BigInt(claim.fee));
    const again = await run(['rewards', 'claim', 'faucet', '--epoch', epoch]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: the reward of gw1\S+ for epoch \d+ \(line \d+, \d+ ugw\) was already claimed\n$/);
    const againJson = await run(['rewards', 'claim', 'faucet', '--epoch', epoch, '--json']);
    assert.equal(againJson.code, 1);
    assert.equal(JSON.parse(againJson.stderr).error.code, 'ALREADY_CLAIMED');
    assert.match((await run(['rewards', 'show', 'faucet', '--epoch', epoch])).stdout, /claimed: +yes/);

    // claim --all: every other closed epoch; then nothing is pending up to there.
    const all = await json<{ toEpoch: string; claimed: Array<{ epoch: string }>; alreadyClaimed: string[] }>(['rewards', 'claim', 'faucet', '--all']);
    assert.ok(all.alreadyClaimed.includes(epoch));
    assert.ok(!all.claimed.some((c) => c.epoch === epoch));
    const none = await run(['rewards', 'pending', 'faucet', '--to-epoch', all.toEpoch]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /has nothing to claim in epochs \d+–\d+/);

    // The paged listing for explorers.
    const page = (await (await fetch(`${node.url}/v1/rewards/${epoch}/lines?limit=1`)).json()) as { count: number; lines: unknown[]; next: string | null };
    assert.equal(page.count, 2);
    assert.equal(page.lines.length, 1);
    assert.equal(page.next, '0');
    const apiErr = async (path: string) => {
      const r = await fetch(`${(node as { url: string }).url}${path}`);
      return [r.status, ((await r.json()) as { error: { code: string; message: string } }).error] as const;
    };
    const [s1, e1] = await apiErr(`/v1/rewards/${epoch}/lines/gw1notanaddress`);
    assert.deepEqual([s1, e1.code], [400, 'INVALID_ADDRESS']);
    const [s2, e2] = await apiErr(`/v1/rewards/100000/lines/${alice}`);
    assert.deepEqual([s2, e2.code], [404, 'EPOCH_NOT_CLOSED']);
    assert.match(e2.message, /the current epoch is \d+, it closes at height \d+ \(\d+ blocks left\)/);
    const [s3, e3] = await apiErr(`/v1/rewards/${epoch}/lines/${alice}`);
    assert.deepEqual([s3, e3.code, (e3 as unknown as { hasContributions: boolean }).hasContributions], [404, 'NO_REWARD_LINE', false]);
    const spec = (await (await fetch(`${node.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(spec.paths['/v1/rewards/{epoch}/lines/{address}'] && spec.paths['/v1/rewards/{epoch}/lines']);

    // Clear failures: no line, an epoch still running, an unknown device, a lying node.
    const noLine = await run(['rewards', 'explain', alice, '--epoch', epoch]);
    assert.equal(noLine.code, 1);
    assert.match(noLine.stderr, /^error: gw1\S+ has no reward line in epoch \d+: no contributions and no eligible stake at the close\n$/);
    const future = await run(['rewards', 'explain', 'faucet', '--epoch', '100000']);
    assert.equal(future.code, 1);
    assert.match(future.stderr, /epoch 100000 has not closed yet: the current epoch is \d+, it closes at height \d+ \(\d+ blocks left\)/);
    const notClosed = await run(['rewards', 'claim', 'faucet', '--epoch', '100000']);
    assert.match(notClosed.stderr, /has not closed yet/);
    const device = await run(['rewards', 'explain', 'ab'.repeat(32), '--epoch', epoch]);
    assert.equal(device.code, 1);
    assert.match(device.stderr, /no device abab.* on this chain/);
    const bad = await run(['rewards', 'show', 'faucet', '--epoch', 'x']);
    assert.match(bad.stderr, /--epoch must be an epoch number/);
    const p = await lyingProxy(node.url);
    proxy = p.server;
    const lied = await cli(['--node', p.url, 'rewards', 'show', 'faucet', '--epoch', epoch], { home });
    assert.equal(lied.code, 1);
    assert.match(lied.stderr, /failed verification: line \d+ of epoch \d+ .* does not prove into the committed root/);
    for (const r of [noLine, future, device, lied]) assert.ok(!/at .*\.js:\d+/.test(r.stderr), 'no stack trace');

    // Work: bob's device reports through the test vertical; explain by device marks its items.
    await json(['bank', 'send', 'faucet', 'bob', '10gw']);
    const keyFile = join(home, 'device.json');
    const id = (await json<{ publicKey: string }>(['device', 'keygen', 'd1', '--out', keyFile])).publicKey;
    const sig = (await run(['maker', 'sign', 'acme', id, '--kind', 'storage'])).stdout.trim();
    await json(['device', 'onboard', 'bob', '--device-key', keyFile, '--maker', 'acme', '--maker-signature', sig, '--kind', 'storage', '--capacity', '4TiB', '--bandwidth', '1000']);
    const deviceKey = Ed25519Key.fromSeed(fromHex(JSON.parse(readFileSync(keyFile, 'utf8')).seed as string));
    const client = createClient({ url: node.url, genesis: new Uint8Array(readFileSync(gPath)) });
    const faucetSigner = new Keyring(homePaths(home).keyring).signer('faucet');
    // Both reports in one tx (through the SDK), so they land in the same epoch.
    const reports = [signTestReport(deviceKey, 'rewards-cli', { seq: 1n, pool: 'storage', units: 120n, reason: 'storage-proof' }), signTestReport(deviceKey, 'rewards-cli', { seq: 2n, pool: 'storage', units: 5n, reason: 'storage-retrieval' })];
    await signAndSend(client, { signer: faucetSigner, msgs: reports.map((value) => ({ type: 'testvertical/report', value })) });
    let bobPending: { pending: Array<{ epoch: string }> } = { pending: [] };
    for (let i = 0; i < 100 && bobPending.pending.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 300));
      bobPending = await json(['rewards', 'pending', 'bob']);
    }
    const workEpoch = bobPending.pending[0]?.epoch as string;
    assert.ok(workEpoch, "an epoch closed with bob's work");
    const byDevice = await run(['rewards', 'explain', id, '--epoch', workEpoch]);
    assert.equal(byDevice.code, 0, byDevice.stderr);
    assert.match(byDevice.stdout, new RegExp(`Reward of ${bob} in epoch ${workEpoch}`));
    assert.match(byDevice.stdout, /device [0-9a-f]{64}: 2 item\(s\), marked ▶ below/);
    assert.match(byDevice.stdout, /▶ +1 +storage +device [0-9a-f]{8}…[0-9a-f]{4} +storage-proof +120 +100% +120 +96\.0000% +28,800 GW +✓/);
    assert.match(byDevice.stdout, /▶ +2 +storage .* storage-retrieval +5 +100% +5 +4\.0000% +1,200 GW +✓/);
    assert.match(byDevice.stdout, /storage +floor\(30,000 GW × 125 units ÷ 125 units\) = 30,000 GW/);
    assert.match(byDevice.stdout, /✓ work +all 2 work items match state at the close/);
    assert.match(byDevice.stdout, /✓ matches the committed root/);
    const workRec = await json<{ pools: Array<{ pool: string; units: string; paid: string }> }>(['rewards', 'epoch', workEpoch]);
    assert.deepEqual(workRec.pools[0], { pool: 'storage', alloc: '30000000000', units: '125', paid: '30000000000' });

    const help = await cli(['rewards', 'explain', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /committed root/);
  } finally {
    proxy?.close();
    await node?.stop();
    dir.cleanup();
  }
});
