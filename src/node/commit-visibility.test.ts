/**
 * A committed tx is never visible before its block's state: LMDB readers see a block's writes as
 * soon as its transaction commits, but the node switches its state to the block a moment later
 * (after the write's promise settles). A client that polls for its tx in that moment and then
 * queries the state must not miss the tx's effects (this once made `store put` report its new
 * order as "disappeared"). The test pauses the node inside that moment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../core/bytes.js';
import { encodeAddress } from '../core/keys.js';
import { getAccount } from '../chain/modules/bank/keeper.js';
import { buildTx, txHash } from '../chain/tx.js';
import type { Database } from '../state/db.js';
import { tempDir, testKey } from '../testkit/index.js';
import { DEFAULT_CONFIG, parseGenesisBytes } from './home.js';
import { EmbeddedNode } from './node.js';

test('embedded node: a block, its txs and their index entries become readable only with its state', { timeout: 60_000 }, async () => {
  const dir = tempDir('gw-commit-visibility-');
  const v = testKey('visibility/validator');
  const alice = testKey('visibility/alice');
  const bob = testKey('visibility/bob');
  const genesisJson = {
    chainId: 'commit-visibility',
    genesisTime: '2026-01-01T00:00:00Z',
    validators: [{ pubKey: toHex(v.publicKey), power: '10', name: 'v0', rewardAddress: encodeAddress(v.address) }],
    app: { bank: { balances: [{ address: encodeAddress(alice.address), amount: '1000000000' }] } },
  };
  const genesis = parseGenesisBytes(Buffer.from(JSON.stringify(genesisJson)), 'genesis.json');
  const node = await EmbeddedNode.open({ home: dir.path, config: DEFAULT_CONFIG, genesis, validatorKey: v, noSync: true });
  try {
    await node.produceBlock();
    const tx = buildTx(node.app, alice, { chainId: 'commit-visibility', sequence: 0n, fee: 10_000n, msgs: [{ type: 'bank/send', value: { to: bob.address, amount: 5n } }] });
    const hash = txHash(tx);
    assert.equal((await node.submit([tx]))[0]?.code, 0);

    // Look from inside the gap: the block's transaction has committed, the node has not switched.
    const db = (node as unknown as { db: Database }).db;
    const write = db.write.bind(db);
    let inGap: { stored: boolean; tx: unknown; block: unknown; results: unknown; found: number; bob: bigint; height: number } | undefined;
    db.write = async (ops) => {
      await write(ops);
      inGap = {
        stored: node.blocks.hasTx(hash),
        tx: node.blocks.tx(hash),
        block: node.blocks.block(2),
        results: node.blocks.results(2),
        found: node.blocks.searchTxs(`tx.signer=${encodeAddress(alice.address)}`, 10).length,
        bob: getAccount(node.app.state, bob.address).balance,
        height: node.height,
      };
    };
    const waited = node.waitForTx(hash, 10_000);
    const b = await node.produceBlock();
    assert.equal(b.height, 2);
    assert.ok(inGap, 'the write ran');
    assert.equal(inGap.stored, true, 'the block is in the database already (the gap is real)');
    assert.deepEqual(
      { tx: inGap.tx, block: inGap.block, results: inGap.results, found: inGap.found, bob: inGap.bob, height: inGap.height },
      { tx: undefined, block: undefined, results: undefined, found: 0, bob: 0n, height: 1 },
      'nothing of block 2 is readable while the state is still block 1',
    );

    // After the switch: all of it, together with the state.
    const seen = await waited;
    assert.equal(seen?.height, 2, 'a waiter learns of the tx once the block is committed');
    assert.equal(node.blocks.tx(hash)?.height, 2);
    assert.equal(node.blocks.block(2)?.txs.length, 1);
    assert.equal(node.blocks.searchTxs(`tx.signer=${encodeAddress(alice.address)}`, 10).length, 1);
    assert.equal(getAccount(node.app.state, bob.address).balance, 5n);
    assert.equal(node.blocks.heightOf(node.lastBlockHash), 2);
  } finally {
    await node.stop();
    dir.cleanup();
  }
});
