/**
 * Joining a running CometBFT network the way a second machine would: `groundwork node join
 * --from <rpc>` writes a home from what one node's RPC says (genesis, peer), `node start
 * --cometbft` runs it, and it catches up to the same app hashes; the CLI's light-client query
 * through the new node verifies. Bad input to `node join` fails with a specific code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { toHex } from '../src/core/bytes.js';
import { Ed25519Key, encodeAddress, type Signer } from '../src/core/keys.js';
import { standardRegistry } from '../src/chain/index.js';
import { buildTx } from '../src/chain/tx.js';
import { Keyring } from '../src/client/keyring.js';
import { createTestnet, startValidator, stopTestnet, waitForHeight } from '../src/devnet/testnet.js';
import { BIN, cli, tempDir } from '../src/testkit/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rpc<T>(port: number, path: string): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000) });
  const j = (await r.json()) as { result?: T; error?: unknown };
  if (!j.result) throw new Error(`${path}: ${JSON.stringify(j.error)}`);
  return j.result;
}

async function height(port: number): Promise<number> {
  try {
    return Number((await rpc<{ sync_info: { latest_block_height: string } }>(port, '/status')).sync_info.latest_block_height);
  } catch {
    return -1;
  }
}

test('node join: a new node follows a running network from one RPC address and serves verified queries', { timeout: 240_000 }, async () => {
  const dir = tempDir('gw-join-');
  // Below the ephemeral port range (32768+), where outgoing connections could take our ports.
  const basePort = 20_000 + Math.floor(Math.random() * 120) * 100 + 50;
  const info = createTestnet({ dir: dir.path, validators: 2, basePort, timeoutCommit: '300ms' });
  const v0 = info.validators[0] as (typeof info.validators)[number];
  const home = join(dir.path, 'joined');
  const ports = { p2p: basePort + 40, rpc: basePort + 41, abci: basePort + 42, api: basePort + 43 };
  let joined: ReturnType<typeof spawn> | undefined;
  try {
    for (const v of info.validators) startValidator(info, v);
    await waitForHeight(info, 2, 90_000);

    // A transfer before the new node exists: it must replay it from the chain.
    const faucet: Signer = new Keyring(join(dir.path, 'keyring')).signer('faucet');
    const dest = Ed25519Key.generate();
    const tx = buildTx(standardRegistry(), faucet, { chainId: info.chainId, sequence: 0n, fee: 10_000n, msgs: [{ type: 'bank/send', value: { to: dest.address, amount: 4_242n } }] });
    const sent = await rpc<{ code: number; hash: string }>(v0.ports.rpc, `/broadcast_tx_sync?tx=0x${toHex(tx)}`);
    assert.equal(sent.code, 0);
    let txHeight = 0;
    for (let i = 0; i < 100 && !txHeight; i++) {
      try {
        txHeight = Number((await rpc<{ height: string }>(v0.ports.rpc, `/tx?hash=0x${sent.hash}`)).height);
      } catch {
        await sleep(200);
      }
    }
    assert.ok(txHeight > 0, 'the transfer was committed');

    // Bad input: a URL that is not one, a node that is not there.
    const bad = await cli(['node', 'join', '--from', 'not a url', '--json'], { home: join(dir.path, 'bad') });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INVALID_ARGUMENT/);
    const gone = await cli(['node', 'join', '--from', `http://127.0.0.1:${basePort + 99}`, '--json'], { home: join(dir.path, 'bad') });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /NODE_UNREACHABLE/);
    const badPort = await cli(['node', 'join', '--from', `http://127.0.0.1:${v0.ports.rpc}`, '--p2p-port', '70000'], { home: join(dir.path, 'bad') });
    assert.equal(badPort.code, 1);
    assert.match(badPort.stderr, /--p2p-port must be a port/);

    const args = ['node', 'join', '--from', `http://127.0.0.1:${v0.ports.rpc}`, '--p2p-host', '127.0.0.1', '--p2p-port', String(ports.p2p), '--rpc-port', String(ports.rpc), '--abci-port', String(ports.abci), '--api-port', String(ports.api), '--json'];
    const r = await cli(args, { home });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { chainId: string; peer: string; nodeId: string };
    assert.equal(out.chainId, info.chainId);
    assert.equal(out.peer, `${v0.nodeId}@127.0.0.1:${v0.ports.p2p}`);
    // Joining twice into the same home is refused, nothing is overwritten.
    const again = await cli(args, { home });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /HOME_EXISTS/);

    joined = spawn(process.execPath, [BIN, '--home', home, 'node', 'start', '--cometbft'], { stdio: 'ignore' });
    const target = Math.max(txHeight + 2, await height(v0.ports.rpc));
    for (let i = 0; i < 600 && (await height(ports.rpc)) < target; i++) await sleep(200);
    assert.ok((await height(ports.rpc)) >= target, 'the joined node caught up');
    for (let h = 1; h <= target; h++) {
      const [a, b] = await Promise.all([v0.ports.rpc, ports.rpc].map(async (p) => (await rpc<{ block: { header: { app_hash: string } } }>(p, `/block?height=${h}`)).block.header.app_hash));
      assert.equal(b, a, `app hash at height ${h}`);
    }

    // The CLI's light-client query through the new node: signatures of > 2/3 of the genesis
    // validators over the header, then the Merkle proof of the value.
    const q = await cli(['query', 'balance', encodeAddress(dest.address), '--cometbft', `http://127.0.0.1:${ports.rpc}`, '--json'], { home });
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /4242/);
  } finally {
    joined?.kill('SIGTERM');
    await stopTestnet(info);
    dir.cleanup();
  }
});
