/**
 * `groundwork store` end to end with real processes: a node and three provider agents
 * (`groundwork provider start` with a storage section, fixed prices 900/800/700 ugw per block),
 * and a customer using only the CLI. A ~3 MiB file and an empty file are stored under a 2+1 code
 * (the agents bid on the orders by themselves, each shard goes to its own provider, the deal is
 * recorded with the providers' acks) and come back byte for byte; with one agent killed (-9) the
 * big file still comes back, rebuilt from parity. `ls`, `status` and `rm` (the manifest kept, then
 * forgotten) are checked in JSON; a code needing more providers than there are fails with its
 * escrow refunded; bad input fails with one line and exit 1.
 *
 * Challenges are drawn every storage.periodBlocks; the period here is long so that the test does
 * not depend on the agents' prover (a shard whose proofs are missed is lost, which `get` skips).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCli } from '../src/testkit/index.js';
import { startStorageNet } from '../src/testkit/storage.js';
import { getAccount } from '../src/client/actions/getAccount.js';
import { toHex } from '../src/core/bytes.js';
import { sha256 } from '../src/core/hash.js';

const CHAIN = 'store-e2e';
const FUNDS = 1_000_000_000n; // 1000 GW each

type J = Record<string, unknown>;

test('store: put, get, ls, status, rm through the CLI against a node and three storage providers; survives a provider down', { timeout: 300_000 }, async () => {
  const started = Date.now();
  // --- A chain with a customer, a maker and three funded providers (p1-p3 bidding 900/800/700),
  // their agents running, each in its own home with a storage section.
  const net = await startStorageNet({
    chainId: CHAIN,
    providers: 3,
    providerName: (i) => `p${i + 1}`,
    price: (i) => BigInt(900 - 100 * i),
    customerFunds: FUNDS,
    params: { storage: { periodBlocks: '100000' } },
    blockTimeMs: 200,
    capacityBytes: 64 << 20,
  });
  const { home, client, run, json } = net;
  try {
    const cust = net.customers.get('cust')!.address;
    assert.equal((await getAccount(client, { address: cust })).balance, FUNDS);
    const setupMs = Date.now() - started;

    // --- Bad input: one line, exit 1, nothing on chain.
    const big = join(home, 'big.bin');
    const bigData = randomBytes(3 * 1024 * 1024 + 12_345);
    writeFileSync(big, bigData);
    const empty = join(home, 'empty.txt');
    writeFileSync(empty, '');
    const put = ['store', 'put', '--key', 'cust', '--duration', '10000', '--max-price', '1000ugw', '--bid-window', '15'];
    const bad = async (args: string[], re: RegExp) => {
      const r = await run(args, false);
      assert.match(r.stderr, re, args.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, `no stack trace: ${r.stderr}`);
    };
    await bad([...put, join(home, 'missing.bin')], /^error: .*missing\.bin does not exist\n$/);
    await bad([...put, home], /is not a regular file \(a directory/);
    await bad([...put, big, '--k', '25'], /--k \(data shards\) must be a whole number from 1 to 24, got "25"/);
    await bad([...put, big, '--k', '0'], /--k \(data shards\) must be a whole number from 1 to 24/);
    await bad([...put, big, '--m', '7'], /--m \(parity shards\) must be a whole number from 0 to 6, got "7"/);
    await bad(['store', 'put', big, '--key', 'cust', '--duration', '100'], /--max-price <amount> is required/);
    await bad(['store', 'put', big, '--key', 'cust', '--duration', '100', '--max-price', '1000'], /has no unit/);
    await bad(['store', 'put', big, '--duration', '100', '--max-price', '1000ugw'], /--key <name> is required: the key that pays .*keys here: acme, cust, faucet, p1, p2, p3/);
    await bad([...put.map((a) => (a === 'cust' ? 'acme' : a)), big], /gw1[0-9a-z]+ holds 0 GW but storing this file needs 62 GW plus fees \(escrow 60 GW \+ repair reserve 1 GW × 2\)/);
    await bad(['store', 'get', '999'], /no manifest for order 999 in .*store/);
    await bad(['store', 'get', 'abc'], /order must be a positive integer, got "abc"/);
    await bad(['store', 'status', '999'], /no deal and no order 999/);
    await bad(['store', 'rm', '999'], /no deal and no order 999/);
    const badJson = await run(['store', 'get', '999', '--json'], false);
    assert.equal((JSON.parse(badJson.stderr) as { error: { code: string } }).error.code, 'NO_MANIFEST');

    // --- More shards than providers: the order gets 3 leases of the 4 needed, is closed, refunded.
    const before = (await getAccount(client, { address: cust })).balance;
    const short = await run([...put, big, '--k', '3', '--m', '1'], false);
    assert.match(short.stderr, /only 3 of the 4 providers needed took order [0-9]+: .*lower k \+ m to at most 3 or raise the max price.*; order [0-9]+ was closed and [0-9.]+ GW refunded/s);
    const after = (await getAccount(client, { address: cust })).balance;
    assert.ok(before - after < 100_000n, `only fees and a few blocks of 3 leases were spent: ${before - after} ugw`);

    // --- Ctrl-C while the order takes bids: the put stops and closes its order.
    const interrupted = spawnCli(['--home', home, '--node', net.node.url, ...put.slice(0, -1), '20', big]);
    const created = await interrupted.waitFor(/order ([0-9]+) created/, 30_000);
    interrupted.proc.kill('SIGINT');
    assert.equal(await interrupted.exited, 1);
    assert.match(interrupted.out(), new RegExp(`error: interrupted before the file was stored; order ${created[1]} was closed and [0-9.]+ GW refunded`));
    assert.equal((await json<{ order: { status: string } }>(['market', 'order', 'show', created[1]!])).order.status, 'closed');

    // --- Put the big file and the empty one.
    const putBig = await json<J & { order: string; leases: Array<{ shard: number; provider: string; lease: string }>; manifest: string }>([...put, big, '--k', '2', '--m', '1']);
    assert.equal(putBig.size, bigData.length);
    assert.equal(putBig.sha256, toHex(sha256(bigData)));
    assert.deepEqual([putBig.k, putBig.m], [2, 1]);
    assert.equal(putBig.leases.length, 3);
    assert.deepEqual(new Set(putBig.leases.map((l) => l.provider)), new Set(net.providers.map((p) => p.address)), 'one shard per provider');
    const leaseIds = putBig.leases.map((l) => BigInt(l.lease));
    assert.deepEqual(leaseIds, [...leaseIds].sort((a, b) => (a < b ? -1 : 1)), 'shard j on the j-th lease by id');
    assert.equal(putBig.manifest, join(home, 'store', `${putBig.order}.json`));
    assert.equal(statSync(putBig.manifest).mode & 0o777, 0o600, 'the manifest holds the file key');
    const saved = JSON.parse(readFileSync(putBig.manifest, 'utf8')) as J & { deal: J };
    assert.equal(saved.sha256, putBig.sha256);
    assert.match(saved.key as string, /^[0-9a-f]{64}$/);
    assert.equal(saved.deal.customer, cust);

    const putHuman = await run([...put, empty, '--k', '2', '--m', '1']);
    const emptyOrder = /Stored empty\.txt \(0 B\) as order ([0-9]+): 2\+1 shards of 4 KiB on 3 providers/.exec(putHuman.stdout)?.[1];
    assert.ok(emptyOrder, putHuman.stdout);
    assert.match(putHuman.stdout, /costs 0\.0024 GW per block .*repair reserve 1 GW/);
    assert.match(putHuman.stdout, new RegExp(`groundwork store get ${emptyOrder} -o empty\\.txt`));

    // --- Get both back, byte for byte.
    const outBig = join(home, 'big.out');
    const gotBig = await json<J>(['store', 'get', putBig.order, '-o', outBig]);
    assert.deepEqual([gotBig.bytes, gotBig.failedShards, gotBig.repairedSegments], [bigData.length, [], 0]);
    assert.ok(readFileSync(outBig).equals(bigData), 'the big file comes back identical');
    await bad(['store', 'get', putBig.order, '-o', outBig], /big\.out exists: pass --force/);
    assert.equal(gotBig.sha256Checked, false, 'the whole-file digest only when asked for');
    const outEmpty = join(home, 'empty.out');
    const gotEmpty = await run(['store', 'get', emptyOrder, '-o', outEmpty, '--verify-sha256']);
    assert.equal(readFileSync(outEmpty).length, 0);
    assert.match(gotEmpty.stdout, /^Got empty\.txt \(0 B, every segment authenticated, sha256 e3b0c442[0-9a-f]+ checked\) → /);
    const piped = await run(['store', 'get', putBig.order, '-o', '-']);
    assert.ok(Buffer.from(piped.stdout, 'latin1').length > 0);

    // --- A provider whose copy changed on disk (one byte of data shard 1): its piece does not
    // hash to its root, the provider is dropped, parity takes its place; the file is identical.
    const dataFile = join(net.provider(putBig.leases[1]!.provider).storageDir, 'shards', (saved.roots as string[])[1] as string, 'data');
    const original = readFileSync(dataFile);
    const flipped = Buffer.from(original);
    flipped[12_345]! ^= 0xff;
    writeFileSync(dataFile, flipped);
    const outFlip = join(home, 'big.flip');
    const gotFlip = await json<J>(['store', 'get', putBig.order, '-o', outFlip]);
    assert.ok(readFileSync(outFlip).equals(bigData), 'identical with a provider serving a changed byte');
    assert.deepEqual(gotFlip.failedShards, [1]);
    writeFileSync(dataFile, original);

    // --- ls and status.
    const ls = await json<{ files: Array<{ order: string; status: string; name: string; activeShards: number; size: number }> }>(['store', 'ls']);
    assert.deepEqual(
      ls.files.map((f) => [f.order, f.name, f.status, f.activeShards, f.size]),
      [
        [putBig.order, 'big.bin', 'active', 3, bigData.length],
        [emptyOrder, 'empty.txt', 'active', 3, 0],
      ],
    );
    const st = await json<{ deal: { status: string; k: number; m: number; shards: Array<{ status: string; provider: string; root: string }> }; health: string; settlement: { escrow: string } }>(['store', 'status', putBig.order]);
    assert.equal(st.deal.status, 'active');
    assert.deepEqual(st.deal.shards.map((s) => s.status), ['active', 'active', 'active']);
    assert.deepEqual(st.deal.shards.map((s) => s.root), saved.roots);
    assert.match(st.health, /^healthy/);
    assert.ok(BigInt(st.settlement.escrow) > 0n);
    assert.match((await run(['store', 'status', putBig.order])).stdout, /health: +healthy: all 3 shards active on chain/);

    // --- One provider down (kill -9): the one holding data shard 0, so the file must be rebuilt
    // from parity; it still comes back.
    await net.provider(putBig.leases[0]!.provider).kill9();
    const outDown = join(home, 'big.down');
    const gotDown = await json<J>(['store', 'get', putBig.order, '-o', outDown]);
    assert.ok(readFileSync(outDown).equals(bigData), 'identical with a provider down');
    assert.deepEqual(gotDown.failedShards, [0]);
    assert.equal(gotDown.repairedSegments, 2, 'both segments rebuilt from parity');
    const probed = await json<{ deal: { shards: Array<{ probe: string }> } }>(['store', 'status', putBig.order, '--probe']);
    assert.deepEqual(probed.deal.shards.map((s) => s.probe), ['PROVIDER_UNREACHABLE', 'ok', 'ok']);
    assert.match((await run(['store', 'status', putBig.order, '--probe'])).stdout, /probe: +2 of 3 providers answered with a verified piece \(2 are needed\)/);

    // --- rm: the deal ends, the manifest stays; --forget deletes it.
    const rm = await json<J>(['store', 'rm', emptyOrder]);
    assert.equal(rm.ended, true);
    assert.equal((rm.leasesClosed as unknown[]).length, 3);
    assert.equal(rm.forgotten, false);
    assert.ok(existsSync(join(home, 'store', `${emptyOrder}.json`)));
    assert.equal((await json<{ deal: { status: string } }>(['store', 'status', emptyOrder])).deal.status, 'ended');
    assert.match((await run(['store', 'rm', emptyOrder])).stdout, /already ended/);
    await bad(['store', 'get', emptyOrder, '-o', join(home, 'gone.out')], new RegExp(`deal ${emptyOrder} ended at height [0-9]+: its providers no longer keep the shards \\(shard 0: shard ended`));
    assert.ok(!existsSync(join(home, 'gone.out')) && !existsSync(join(home, 'gone.out.part')), 'nothing half-written');
    const forgot = await json<J>(['store', 'rm', putBig.order, '--forget']);
    assert.deepEqual([forgot.ended, forgot.forgotten], [true, true]);
    assert.ok(!existsSync(putBig.manifest));
    const ls2 = await json<{ files: Array<{ order: string; status: string }> }>(['store', 'ls']);
    assert.deepEqual(ls2.files.map((f) => [f.order, f.status]), [[emptyOrder, 'ended']]);
    await bad(['store', 'get', putBig.order], /no manifest for order/);

    process.stderr.write(`store-cli: setup ${setupMs} ms, total ${Date.now() - started} ms\n`);
  } finally {
    await net.close();
  }
});
