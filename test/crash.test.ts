/**
 * kill -9 at arbitrary moments under load: every block and tx the node reported committed is
 * still there after a restart, the chain continues from where it was, and a full replay
 * reproduces every app hash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toBase64 } from '../src/core/bytes.js';
import { encodeAddress } from '../src/core/keys.js';
import { buildTx } from '../src/chain/tx.js';
import { createClient } from '../src/client/client.js';
import { getAccount } from '../src/client/actions/getAccount.js';
import { Keyring } from '../src/client/keyring.js';
import { homePaths } from '../src/node/home.js';
import { cli, startNode, tempDir, testKey } from '../src/testkit/index.js';

interface Seen {
  hash: string;
  height: string;
}

test('kill -9 under load loses nothing that was reported committed', { timeout: 300_000 }, async () => {
  const dir = tempDir('gw-crash-');
  const home = dir.path;
  assert.equal((await cli(['init', '--chain-id', 'crash-chain', '--block-time', '100'], { home })).code, 0);
  const faucet = new Keyring(homePaths(home).keyring).signer('faucet');
  const to = testKey('crash-recipient').address;
  const committed: Seen[] = [];
  const headers = new Map<string, string>(); // height → app hash seen before a crash
  let node = await startNode(home);
  try {
    for (let round = 0; round < 4; round++) {
      const client = createClient({ url: node.url });
      let seq = (await getAccount(client, { address: encodeAddress(faucet.address) })).sequence;
      let stop = false;
      const load = (async () => {
        while (!stop) {
          const txs = [];
          for (let i = 0; i < 100; i++) {
            txs.push(toBase64(buildTx(client.registry, faucet, { chainId: 'crash-chain', sequence: seq++, fee: 10_000n, msgs: [{ type: 'bank/send', value: { to, amount: 1n } }] })));
          }
          try {
            const res = await fetch(`${node.url}/v1/txs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ txs }) });
            const { results } = (await res.json()) as { results: Array<{ hash: string; code: number }> };
            const last = results.filter((r) => r.code === 0).pop();
            if (!last) continue;
            // Wait for inclusion of the batch's last tx; record it as reported committed.
            const t = await fetch(`${node.url}/v1/txs/${last.hash}?waitMs=5000`);
            if (t.status === 200) {
              const body = (await t.json()) as Seen;
              committed.push({ hash: body.hash, height: body.height });
              const h = (await (await fetch(`${node.url}/v1/headers/${body.height}`)).json()) as { header: { appHash: string } };
              headers.set(body.height, h.header.appHash);
            }
          } catch {
            return; // the node died under us
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 700 + round * 350));
      await node.kill9();
      stop = true;
      await load;
      node = await startNode(home);
      for (const c of committed) {
        const r = await fetch(`${node.url}/v1/txs/${c.hash}`);
        assert.equal(r.status, 200, `tx ${c.hash} reported committed at ${c.height} is gone after kill -9 #${round + 1}`);
        assert.equal(((await r.json()) as Seen).height, c.height);
      }
      for (const [h, appHash] of headers) {
        const r = (await (await fetch(`${node.url}/v1/headers/${h}`)).json()) as { header: { appHash: string } };
        assert.equal(r.header.appHash, appHash, `block ${h} changed after a crash`);
      }
    }
    assert.ok(committed.length >= 4, `load generator committed too little (${committed.length})`);
    assert.equal(await node.stop(), 0);
    const replay = await cli(['node', 'replay', '--json'], { home });
    assert.equal(replay.code, 0, replay.stderr);
    assert.equal(JSON.parse(replay.stdout).ok, true);
  } finally {
    await node.kill9();
    dir.cleanup();
  }
});
