/**
 * The new-user flow from the README, with real processes: init, start, two keys, transfers,
 * a proof-verified balance, kill -9, restart, everything committed is intact, replay checks
 * every block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cli, startNode, tempDir } from '../src/testkit/index.js';

test('new user flow: send, verify, kill -9, restart, replay', { timeout: 180_000 }, async () => {
  const dir = tempDir('gw-e2e-');
  const home = dir.path;
  let node = undefined as Awaited<ReturnType<typeof startNode>> | undefined;
  try {
    const init = await cli(['init', '--chain-id', 'e2e-chain', '--block-time', '200'], { home });
    assert.equal(init.code, 0, init.stderr);
    node = await startNode(home);
    const n = ['--node', node.url];

    for (const name of ['alice', 'bob']) {
      const r = await cli(['keys', 'add', name, '--keyring-backend', 'test', '--json'], { home });
      assert.equal(r.code, 0, r.stderr);
      assert.match(JSON.parse(r.stdout).address, /^gw1/);
    }
    const send1 = await cli([...n, 'bank', 'send', 'faucet', 'alice', '1000gw', '--json'], { home });
    assert.equal(send1.code, 0, send1.stderr);
    const tx1 = JSON.parse(send1.stdout);
    assert.equal(tx1.status, 'committed');
    const send2 = await cli([...n, 'bank', 'send', 'alice', 'bob', '250.5gw', '--json'], { home });
    assert.equal(send2.code, 0, send2.stderr);
    const tx2 = JSON.parse(send2.stdout);

    const bal = await cli([...n, 'query', 'balance', 'bob', '--json'], { home });
    assert.equal(bal.code, 0, bal.stderr);
    const bob = JSON.parse(bal.stdout);
    assert.equal(bob.balance, '250500000');
    assert.equal(bob.verified, true);
    const human = await cli([...n, 'query', 'balance', 'bob'], { home });
    assert.match(human.stdout, /250\.5 GW/);

    const aliceBefore = JSON.parse((await cli([...n, 'query', 'account', 'alice', '--json'], { home })).stdout);
    assert.equal(BigInt(aliceBefore.balance), 1000_000000n - 250_500000n - BigInt(tx2.fee));
    const statusBefore = JSON.parse((await cli([...n, 'query', 'status', '--json'], { home })).stdout);

    // kill -9: nothing reported committed may be lost.
    await node.kill9();
    node = await startNode(home);
    const n2 = ['--node', node.url];
    const statusAfter = JSON.parse((await cli([...n2, 'query', 'status', '--json'], { home })).stdout);
    assert.ok(BigInt(statusAfter.height) >= BigInt(statusBefore.height), 'height did not go back');
    for (const hash of [tx1.hash, tx2.hash]) {
      const t = await cli([...n2, 'query', 'tx', hash, '--json'], { home });
      assert.equal(t.code, 0, t.stderr);
      assert.equal(JSON.parse(t.stdout).code, 0);
    }
    const bobAfter = JSON.parse((await cli([...n2, 'query', 'balance', 'bob', '--json'], { home })).stdout);
    assert.equal(bobAfter.balance, '250500000');
    // The state at an old height is still provable and unchanged.
    const old = JSON.parse((await cli([...n2, 'query', 'account', 'alice', '--height', aliceBefore.height, '--json'], { home })).stdout);
    assert.equal(old.balance, aliceBefore.balance);

    // Sequence continues after the restart.
    const send3 = await cli([...n2, 'bank', 'send', 'alice', 'bob', '1gw', '--json'], { home });
    assert.equal(send3.code, 0, send3.stderr);

    assert.equal(await node.stop(), 0, 'SIGTERM is a clean shutdown');
    node = undefined;
    const replay = await cli(['node', 'replay', '--json'], { home });
    assert.equal(replay.code, 0, replay.stderr);
    const rr = JSON.parse(replay.stdout);
    assert.equal(rr.ok, true);
    assert.ok(rr.txs >= 3);
  } finally {
    await node?.kill9();
    dir.cleanup();
  }
});
