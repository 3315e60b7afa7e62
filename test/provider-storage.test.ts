/**
 * The provider's storage service with real processes: a node, `groundwork provider start` with a
 * `storage` section in provider.json, and a customer with the SDK's storage client. The agent wins
 * a storage lease; the customer uploads a shard for it (the lease is read from the chain by the
 * agent) and gets an ack that verifies; pieces and a leaf with its receipt come back verified; an
 * upload signed by someone else is refused; when the customer closes the lease, the agent's GC
 * deletes the shard (grace 0 here) and the capacity is free again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, setupOperator, spawnCli, tempDir, testKey, type LiveProcess, type NodeProcess } from '../src/testkit/index.js';
import { createClient } from '../src/client/client.js';
import { Keyring } from '../src/client/keyring.js';
import { signAndSend } from '../src/client/actions/signAndSend.js';
import { toHex, type Bytes } from '../src/core/bytes.js';
import type { Ed25519Key } from '../src/core/keys.js';
import { LEAF_SIZE, leafHash, pieceRoot, shardRoot } from '../src/core/shardtree.js';
import { fetchLeaf, fetchPiece, ProviderHttpError, storageStatus, uploadShard } from '../src/storage/http.js';

const CHAIN = 'storage-e2e';

function shardOf(data: Uint8Array, pieceSize: number): Bytes {
  const roots: Bytes[] = [];
  for (let p = 0; p < data.length; p += pieceSize) {
    const hashes: Bytes[] = [];
    for (let o = p; o < p + pieceSize; o += LEAF_SIZE) hashes.push(leafHash(data.subarray(o, o + LEAF_SIZE)));
    roots.push(pieceRoot(hashes));
  }
  return shardRoot(roots);
}

async function* chunks(data: Uint8Array, size = 65_536): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < data.length; o += size) yield data.subarray(o, o + size);
}

test('provider storage: an upload for a won lease is acknowledged, served and verified, refused for others, collected when the lease ends', { timeout: 300_000 }, async () => {
  const dir = tempDir('gw-provider-storage-');
  const home = dir.path;
  let node: NodeProcess | undefined;
  let agent: LiveProcess | undefined;
  try {
    const hostUri = `http://127.0.0.1:${await freePort()}`;
    const capacity = 1 << 20;
    const setup = await setupOperator(home, { chainId: CHAIN, hostUri, metricsListen: '', config: { pricing: { type: 'fixed', price: '900' }, storage: { capacityBytes: capacity, gcGraceMs: 0 } } });
    const live = setup.node;
    node = live;
    const { prov } = setup;
    const gPath = setup.genesisPath;

    agent = spawnCli(['--home', home, 'provider', 'start']);
    const running = await agent.waitFor(/provider-agent-running .*storage=(http:\/\/127\.0\.0\.1:[0-9]+)/);
    assert.equal(running[1], hostUri);
    assert.deepEqual(await storageStatus(hostUri), { capacityBytes: capacity, usedBytes: 0, shards: 0 });

    const client = createClient({ url: live.url, genesis: new Uint8Array(readFileSync(gPath)) });
    const cust = new Keyring(join(home, 'keyring')).signer('cust') as Ed25519Key;
    await signAndSend(client, {
      signer: cust,
      msgs: [
        {
          type: 'market/create-order',
          value: {
            spec: { type: 'storage', value: { bytes: 1n << 20n, durationBlocks: 100_000n } },
            replicas: 1,
            region: [],
            attributes: [],
            minReputationBps: 0,
            maxPrice: 1000n,
            denom: 'ugw',
            deposit: 50_000_000n,
            bidWindowBlocks: 6n,
          },
        },
      ],
    });
    const adopted = await agent.waitFor(/lease-adopted lease=([0-9]+) order=1 /, 60_000);
    const lease = BigInt(adopted[1] as string);

    // The customer's shard: 3 pieces of 64 KiB.
    const pieceSize = 1 << 16;
    const data = new Uint8Array(randomBytes(3 * pieceSize));
    const root = shardOf(data, pieceSize);
    const up = (key: Ed25519Key) => uploadShard(hostUri, { lease, root, bytes: data.length, pieceSize, key, chainId: CHAIN, body: chunks(data), expectedProvider: prov });

    await assert.rejects(up(testKey('stranger')), (e: unknown) => e instanceof ProviderHttpError && e.code === 'WRONG_CUSTOMER');
    const ack = await up(cust);
    assert.equal(ack.provider, prov);
    assert.equal(ack.bytes, BigInt(data.length));
    await agent.waitFor(new RegExp(`shard-stored lease=${lease} root=${toHex(root)}`));

    const p = await fetchPiece(hostUri, root, 2, { pieces: 3, pieceSize });
    assert.deepEqual(p.data, data.subarray(2 * pieceSize));
    const leaf = await fetchLeaf(hostUri, root, 20, randomBytes(32), { chainId: CHAIN, expectedProvider: prov, leafCount: data.length / LEAF_SIZE });
    assert.deepEqual(leaf.data, data.subarray(20 * LEAF_SIZE, 21 * LEAF_SIZE));
    assert.deepEqual(await storageStatus(hostUri), { capacityBytes: capacity, usedBytes: data.length, shards: 1 });

    // The lease ends: the shard goes at the next GC after the agent saw the close.
    await signAndSend(client, { signer: cust, msgs: [{ type: 'market/close-lease', value: { lease, reason: 'customer' } }] });
    await agent.waitFor(new RegExp(`lease-closed lease=${lease} `), 60_000);
    await agent.waitFor(new RegExp(`shard-deleted root=${toHex(root)} reason=NO_ACTIVE_LEASE`), 30_000);
    assert.deepEqual(await storageStatus(hostUri), { capacityBytes: capacity, usedBytes: 0, shards: 0 });
    await assert.rejects(fetchPiece(hostUri, root, 0), (e: unknown) => e instanceof ProviderHttpError && e.code === 'SHARD_NOT_FOUND');
    // And a closed lease takes no more uploads.
    await assert.rejects(up(cust), (e: unknown) => e instanceof ProviderHttpError && e.code === 'LEASE_NOT_ACTIVE');

    assert.equal(await agent.stop(), 0);
    assert.match(agent.out(), /provider-agent-stopped/);
  } finally {
    await agent?.kill9();
    await node?.kill9();
    dir.cleanup();
  }
});
