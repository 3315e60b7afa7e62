/**
 * Stake moves CometBFT's validator set (real CometBFT and app processes, 4 validators on
 * loopback): a new account self-bonds and declares a fresh consensus key, CometBFT's
 * /validators shows it two heights later; it undelegates and leaves again. The new validator
 * runs no node: its power is far below 1/3, so the chain goes on without it. The light client
 * (cometVerifiedQuery, trusting only the genesis validators) keeps verifying state after each
 * change, and refuses what it cannot link to them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../src/core/bytes.js';
import { decode } from '../src/core/codec.js';
import { Ed25519Key, type Signer } from '../src/core/keys.js';
import { VALIDATORS_KEY, bankAccountKey } from '../src/chain/keys.js';
import { accountCodec } from '../src/chain/modules/bank/keeper.js';
import { operatorCodec } from '../src/chain/modules/staking/keeper.js';
import { operatorKey } from '../src/chain/modules/staking/keys.js';
import { standardRegistry } from '../src/chain/index.js';
import { buildTx, type DecodedMsg } from '../src/chain/tx.js';
import { validatorSetCodec } from '../src/chain/validators.js';
import { Keyring } from '../src/client/keyring.js';
import { CometLightClient, cometRpcSource, cometVerifiedQuery, type CometSource, type TrustedValidator, type ValidatorJson } from '../src/client/cometbft.js';
import { VerificationError } from '../src/client/errors.js';
import { createTestnet, startValidator, stopTestnet, waitForHeight, type TestnetValidator } from '../src/devnet/testnet.js';
import { tempDir } from '../src/testkit/index.js';

const GW = 1_000_000n;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rpc<T>(v: TestnetValidator, path: string): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${v.ports.rpc}${path}`, { signal: AbortSignal.timeout(15_000) });
  const j = (await r.json()) as { result?: T; error?: unknown };
  if (!j.result) throw new Error(`${path}: ${JSON.stringify(j.error)}`);
  return j.result;
}

async function cometValidators(v: TestnetValidator, height?: number): Promise<{ height: number; validators: ValidatorJson[] }> {
  const r = await rpc<{ block_height: string; validators: ValidatorJson[] }>(v, `/validators?per_page=100${height ? `&height=${height}` : ''}`);
  return { height: Number(r.block_height), validators: r.validators };
}

test('staking on CometBFT: a self-bonded operator joins and leaves the validator set; the light client follows', { timeout: 180_000 }, async () => {
  const dir = tempDir('gw-staking-comet-');
  const basePort = 20_000 + Math.floor(Math.random() * 120) * 100;
  const info = createTestnet({ dir: dir.path, validators: 4, basePort, timeoutCommit: '200ms' });
  const [v0, v1] = info.validators as [TestnetValidator, TestnetValidator];
  const registry = standardRegistry();
  const faucet: Signer = new Keyring(join(dir.path, 'keyring')).signer('faucet');
  const operator = Ed25519Key.generate();
  const consensus = Ed25519Key.generate();
  const seqs = new Map<string, bigint>();
  const send = async (from: Signer, msgs: DecodedMsg[]): Promise<number> => {
    const k = toHex(from.address);
    const sequence = seqs.get(k) ?? 0n;
    const tx = buildTx(registry, from, { chainId: info.chainId, sequence, fee: 20_000n, msgs });
    const r = await rpc<{ code: number; hash: string; log: string }>(v0, `/broadcast_tx_sync?tx=0x${toHex(tx)}`);
    assert.equal(r.code, 0, r.log);
    seqs.set(k, sequence + 1n);
    // Committed on v1 (another node) and on v0 too: the next tx goes to v0, whose check state
    // must already include this one (nodes commit a moment apart).
    for (let i = 0; i < 150; i++) {
      try {
        const t = await rpc<{ height: string; tx_result: { code: number; log: string } }>(v1, `/tx?hash=0x${r.hash}`);
        assert.equal(t.tx_result.code, 0, t.tx_result.log);
        await rpc(v0, `/tx?hash=0x${r.hash}`);
        return Number(t.height);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        await sleep(100);
      }
    }
    throw new Error(`tx ${r.hash} was not committed`);
  };
  const waitForSet = async (has: boolean): Promise<{ height: number; validators: ValidatorJson[] }> => {
    for (let i = 0; i < 150; i++) {
      const s = await cometValidators(v0);
      if (s.validators.some((x) => x.pub_key.value === Buffer.from(consensus.publicKey).toString('base64')) === has) return s;
      await sleep(100);
    }
    throw new Error(`CometBFT's validator set did not ${has ? 'gain' : 'lose'} the new validator`);
  };
  const genesis = JSON.parse(readFileSync(join(v0.home, 'genesis.json'), 'utf8')) as { validators: Array<{ pubKey: string; power: string }> };
  const trusted: TrustedValidator[] = genesis.validators.map((v) => ({ pubKey: fromHex(v.pubKey), power: BigInt(v.power) }));
  const url = `http://127.0.0.1:${v1.ports.rpc}`;
  try {
    for (const v of info.validators) startValidator(info, v);
    await waitForHeight(info, 2, 90_000);
    assert.deepEqual(trusted.map((t) => t.power), [1_000_000n, 1_000_000n, 1_000_000n, 1_000_000n], 'four equal validators from their genesis self-bonds');

    // A new account, funded by the faucet, self-bonds 1,000 GW and declares a fresh consensus key.
    await send(faucet, [{ type: 'bank/send', value: { to: operator.address, amount: 2_000n * GW } }]);
    const joinedAt = await send(operator, [
      { type: 'staking/delegate', value: { operator: operator.address, amount: 1_000n * GW } },
      { type: 'staking/set-validator', value: { pubKey: consensus.publicKey, moniker: 'newcomer' } },
    ]);
    const withNew = await waitForSet(true);
    assert.equal(withNew.validators.length, 5);
    assert.equal(withNew.validators.find((x) => x.pub_key.value === Buffer.from(consensus.publicKey).toString('base64'))?.voting_power, '1000');
    // CometBFT applies the block's validator updates two heights later.
    const before = await cometValidators(v0, joinedAt + 1);
    assert.equal(before.validators.length, 4, `height ${joinedAt + 1} still has the old set`);
    assert.equal((await cometValidators(v0, joinedAt + 2)).validators.length, 5, `height ${joinedAt + 2} has the new set`);
    // The app's own record of the set agrees.
    const appSet = await rpc<{ response: { value: string } }>(v0, `/abci_query?path="/state"&data=0x${toHex(VALIDATORS_KEY)}`);
    assert.deepEqual(
      decode(validatorSetCodec, new Uint8Array(Buffer.from(appSet.response.value, 'base64')))
        .map((v) => `${toHex(v.pubKey)}:${v.power}`)
        .sort(),
      withNew.validators.map((v) => `${Buffer.from(v.pub_key.value, 'base64').toString('hex')}:${v.voting_power}`).sort(),
    );

    // The light client, trusting only the genesis validators, verifies state signed by the new set.
    await waitForHeight(info, joinedAt + 4, 30_000);
    const lc = new CometLightClient(url, trusted);
    const q = await cometVerifiedQuery(url, operatorKey(operator.address), lc);
    assert.ok(q.height + 1n >= BigInt(joinedAt + 2), `verified at height ${q.height + 1n}, after the change at ${joinedAt + 2}`);
    assert.equal(decode(operatorCodec, q.value as Uint8Array).tokens, 1_000n * GW);
    const signedBy5 = await cometValidators(v0, Number(q.height + 1n));
    assert.equal(signedBy5.validators.length, 5, 'the verified header was signed by the 5-validator set');

    // Undelegate everything: the validator leaves CometBFT's set again.
    await send(operator, [{ type: 'staking/undelegate', value: { operator: operator.address, amount: 1_000n * GW } }]);
    const without = await waitForSet(false);
    assert.equal(without.validators.length, 4);
    await waitForHeight(info, without.height + 2, 30_000);
    const q2 = await cometVerifiedQuery(url, bankAccountKey(operator.address), lc);
    assert.ok(q2.height > q.height);
    assert.ok(decode(accountCodec, q2.value as Uint8Array).balance < 1_000n * GW, 'the bonded tokens are unbonding, not back yet');
    // A fresh light client (genesis only) verifies the latest state too.
    await cometVerifiedQuery(url, bankAccountKey(operator.address), trusted);

    // What cannot be linked to the genesis validators is refused.
    const impostors = trusted.map(() => ({ pubKey: Ed25519Key.generate().publicKey, power: 1_000_000n }));
    await assert.rejects(cometVerifiedQuery(url, bankAccountKey(operator.address), impostors), (e: unknown) => e instanceof VerificationError && /does not link to the trusted validators/.test(e.message));
    // A node that lies about a validator set (one power changed) is caught by the hash.
    const real = cometRpcSource(url);
    const lying: CometSource = {
      signedHeader: (h) => real.signedHeader(h),
      validators: async (h) => (await real.validators(h)).map((v, i) => (i === 0 ? { ...v, voting_power: '999999999' } : v)),
    };
    await assert.rejects(new CometLightClient(lying, trusted).verify(BigInt(without.height)), (e: unknown) => e instanceof VerificationError && /does not hash to the header's validators_hash/.test(e.message));
  } finally {
    await stopTestnet(info);
    dir.cleanup();
  }
});
