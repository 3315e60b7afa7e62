/**
 * The embedded node (one signer) when stake moves the validator set away from its key: it keeps
 * producing, says so in an error log line (not silently), restarts, and its chain replays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../core/bytes.js';
import { encodeAddress } from '../core/keys.js';
import { createLogger } from '../core/log.js';
import { genesisValidators } from '../chain/modules/staking/index.js';
import { stakingParams } from '../chain/modules/staking/params.js';
import { buildTx } from '../chain/tx.js';
import { validatorSetCodec } from '../chain/validators.js';
import { tempDir, testKey } from '../testkit/index.js';
import { DEFAULT_CONFIG, parseGenesisBytes } from './home.js';
import { EmbeddedNode } from './node.js';
import { replayChain } from './replay.js';

const GW = 1_000_000n;

test('embedded node: losing 2/3 of the stake-based power is logged, production and restart go on', { timeout: 60_000 }, async () => {
  const dir = tempDir('gw-embedded-staking-');
  const v = testKey('embedded/validator');
  const alice = testKey('embedded/alice');
  const aliceCons = testKey('embedded/alice-cons');
  const ops = [{ address: v.address, pubKey: v.publicKey, moniker: 'validator-0', selfBond: 10n * GW }];
  const params = { ...stakingParams.defaults, maxValidators: 1 };
  const genesisJson = {
    chainId: 'embedded-staking',
    genesisTime: '2026-01-01T00:00:00Z',
    validators: validatorSetCodec.toJSON(genesisValidators(ops, params)),
    app: {
      bank: { balances: [{ address: encodeAddress(v.address), amount: String(11n * GW) }, { address: encodeAddress(alice.address), amount: String(100n * GW) }] },
      staking: { params: { maxValidators: 1 }, operators: [{ address: encodeAddress(v.address), pubKey: toHex(v.publicKey), moniker: 'validator-0', selfBond: String(10n * GW) }] },
    },
  };
  const genesis = parseGenesisBytes(Buffer.from(JSON.stringify(genesisJson)), 'genesis.json');
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', write: (l) => lines.push(l) });
  const open = () => EmbeddedNode.open({ home: dir.path, config: DEFAULT_CONFIG, genesis, validatorKey: v, logger, noSync: true });
  let node = await open();
  try {
    await node.produceBlock();
    const tx = (seq: bigint, msgs: Parameters<typeof buildTx>[2]['msgs']) => buildTx(node.app, alice, { chainId: 'embedded-staking', sequence: seq, fee: 10_000n, msgs });
    const r = await node.submit([
      tx(0n, [
        { type: 'staking/delegate', value: { operator: alice.address, amount: 20n * GW } },
        { type: 'staking/set-validator', value: { pubKey: aliceCons.publicKey, moniker: 'alice' } },
      ]),
    ]);
    assert.equal(r[0]?.code, 0, r[0]?.log);
    const b = await node.produceBlock();
    assert.equal(b.results.txResults[0]?.code, 0, b.results.txResults[0]?.log);
    assert.deepEqual(node.app.validators().map((x) => x.name), ['alice'], 'the top operator by stake took the only seat');
    assert.ok(lines.some((l) => /no longer gives this node's key more than 2\/3 of the voting power/.test(l)), lines.join('\n'));
    await node.produceBlock(); // still producing, signed with the genesis key
    await node.stop();
    lines.length = 0;
    node = await open(); // a genesis validator's key: starts, and says again what is wrong
    assert.ok(lines.some((l) => /no longer gives this node's key/.test(l)));
    await node.produceBlock();
    const height = node.height;
    await node.stop();
    const rep = await replayChain(dir.path, genesis);
    assert.equal(rep.blocks, height);
  } finally {
    await node.stop();
    dir.cleanup();
  }
});
