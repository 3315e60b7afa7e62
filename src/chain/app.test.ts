import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toHex, type Bytes } from '../core/bytes.js';
import type { Ed25519Key } from '../core/keys.js';
import { Database } from '../state/db.js';
import { StateStore } from '../state/store.js';
import { tempDir, testGenesis, testKey } from '../testkit/index.js';
import type { App, BlockResult } from './app.js';
import { parseGenesis } from './genesis.js';
import { createApp, standardModules } from './index.js';
import { FEE_COLLECTOR } from './modules/bank/index.js';
import { getAccount, getSupply, accountCodec } from './modules/bank/keeper.js';
import { BANK_ACCOUNT_PREFIX, prefixEnd } from './keys.js';
import { buildTx, type DecodedMsg } from './tx.js';
import { decode } from '../core/codec.js';

const validator = testKey('validator');
const alice = testKey('alice');
const bob = testKey('bob');
const carol = testKey('carol');
const FEE = 10_000n;

async function chain(balances: Array<[Ed25519Key, bigint]>) {
  const dir = tempDir();
  const db = new Database(dir.path, { noSync: true });
  const app = createApp(new StateStore(db));
  await app.initChain(parseGenesis(testGenesis({ validator, balances }), standardModules()));
  let time = 1_767_225_600_000n;
  const seq = new Map<string, bigint>();
  return {
    app,
    tx(from: Ed25519Key, msgs: DecodedMsg[], o: { fee?: bigint; sequence?: bigint; chainId?: string } = {}): Bytes {
      const k = toHex(from.address);
      const s = o.sequence ?? seq.get(k) ?? 0n;
      seq.set(k, s + 1n);
      return buildTx(app, from, { chainId: o.chainId ?? 'test-chain', sequence: s, fee: o.fee ?? FEE, msgs });
    },
    send(from: Ed25519Key, to: Ed25519Key, amount: bigint, o: { fee?: bigint; sequence?: bigint; chainId?: string } = {}) {
      return this.tx(from, [{ type: 'bank/send', value: { to: to.address, amount } }], o);
    },
    async block(txs: Bytes[]): Promise<BlockResult> {
      time += 1000n;
      const r = app.finalizeBlock({ chainId: 'test-chain', height: BigInt(app.height + 1), time, proposer: validator.publicKey }, txs.map((bytes) => ({ bytes })));
      await app.commit();
      app.resetCheckState();
      return r;
    },
    async close() {
      await db.close();
      dir.cleanup();
    },
  };
}

function balance(app: App, k: Ed25519Key | Bytes): bigint {
  return getAccount(app.state, k instanceof Uint8Array ? k : k.address).balance;
}

function sumBalances(app: App): bigint {
  let total = 0n;
  for (const [, v] of app.state.iterate(BANK_ACCOUNT_PREFIX, prefixEnd(BANK_ACCOUNT_PREFIX))) total += decode(accountCodec, v).balance;
  return total;
}

test('bank: a transfer moves funds, charges the fee and pays it to the proposer', async () => {
  const c = await chain([[alice, 1_000_000n]]);
  const r = await c.block([c.send(alice, bob, 250_000n)]);
  assert.equal(r.txResults[0]?.code, 0, r.txResults[0]?.log);
  assert.equal(balance(c.app, alice), 1_000_000n - 250_000n - FEE);
  assert.equal(balance(c.app, bob), 250_000n);
  assert.equal(balance(c.app, validator), FEE);
  assert.equal(balance(c.app, FEE_COLLECTOR), 0n);
  assert.equal(getSupply(c.app.state), 1_000_000n);
  const types = r.txResults[0]?.events.map((e) => e.type);
  assert.deepEqual(types, ['tx', 'bank.transfer']);
  assert.equal(r.endEvents[0]?.type, 'bank.fees');
  await c.close();
});

test('tx: multiple messages are all-or-nothing, and the fee is kept when a message fails', async () => {
  const c = await chain([[alice, 1_000_000n]]);
  const tx = c.tx(alice, [
    { type: 'bank/send', value: { to: bob.address, amount: 100n } },
    { type: 'bank/send', value: { to: carol.address, amount: 5_000_000n } },
  ]);
  const r = await c.block([tx]);
  assert.equal(r.txResults[0]?.codespace, 'bank');
  assert.equal(r.txResults[0]?.error, 'INSUFFICIENT_FUNDS');
  assert.equal(balance(c.app, bob), 0n, 'first message rolled back');
  assert.equal(balance(c.app, alice), 1_000_000n - FEE, 'fee charged');
  assert.equal(getAccount(c.app.state, alice.address).sequence, 1n, 'sequence spent');
  await c.close();
});

test('tx: every bad input has its own error and leaves state unchanged', async () => {
  const c = await chain([[alice, 1_000_000n]]);
  await c.block([c.send(alice, bob, 1n)]); // alice's next sequence is 1
  const before = toHex(c.app.appHash);
  const good = c.send(alice, bob, 1n, { sequence: 1n });
  const tampered = Uint8Array.from(good);
  tampered[tampered.length - 70] = tampered[tampered.length - 70]! ^ 1; // inside the body: signature no longer matches
  const cases: Array<[string, Bytes, string]> = [
    ['garbage', Uint8Array.from([1, 2, 3]), 'TX_DECODE'],
    ['trailing byte', Uint8Array.from([...good, 0]), 'TX_DECODE'],
    ['bad signature', tampered, 'BAD_SIGNATURE'],
    ['wrong chain id', c.send(alice, bob, 1n, { chainId: 'other', sequence: 1n }), 'WRONG_CHAIN_ID'],
    ['reused sequence', c.send(alice, bob, 1n, { sequence: 0n }), 'SEQUENCE_REUSED'],
    ['skipped sequence', c.send(alice, bob, 1n, { sequence: 7n }), 'SEQUENCE_GAP'],
    ['fee too low', c.send(alice, bob, 1n, { sequence: 1n, fee: 1n }), 'FEE_TOO_LOW'],
    ['no fee funds', c.send(bob, alice, 1n, { sequence: 0n, fee: 1n << 100n }), 'INSUFFICIENT_FEE_FUNDS'],
    ['oversize', new Uint8Array(70_000), 'TX_TOO_LARGE'],
  ];
  for (const [name, bytes, kind] of cases) {
    const check = c.app.checkTx({ bytes });
    assert.equal(check.error, kind, `${name}: ${check.log}`);
    assert.ok(check.log.length > 10, `${name} has a message`);
  }
  const r = await c.block(cases.map(([, b]) => b));
  assert.deepEqual(r.txResults.map((x) => x.error), cases.map(([, , k]) => k));
  assert.equal(toHex(c.app.appHash), before, 'rejected txs change nothing');
  // insufficient funds for the transfer itself is rejected at check time
  const big = c.app.checkTx({ bytes: c.send(alice, bob, 10n ** 30n, { sequence: 1n }) });
  assert.equal(big.error, 'INSUFFICIENT_FUNDS');
  await c.close();
});

test('checkTx: pending txs of a sender chain their sequences and their spending', async () => {
  const c = await chain([[alice, 110_000n]]);
  assert.equal(c.app.checkTx({ bytes: c.send(alice, bob, 40_000n) }).code, 0);
  assert.equal(c.app.checkTx({ bytes: c.send(alice, bob, 40_000n) }).code, 0);
  const third = c.app.checkTx({ bytes: c.send(alice, bob, 40_000n) });
  assert.equal(third.error, 'INSUFFICIENT_FUNDS');
  await c.close();
});

const keys = [alice, bob, carol, testKey('dave')];

test('property: supply is conserved and no balance goes negative over random txs', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(fc.tuple(fc.nat(3), fc.nat(3), fc.bigInt(0n, 400_000n), fc.boolean()), { maxLength: 12 }), { minLength: 1, maxLength: 4 }),
      async (blocks) => {
        const c = await chain(keys.map((k) => [k, 500_000n]));
        const supply = getSupply(c.app.state);
        for (const b of blocks) {
          await c.block(b.map(([f, t, amt, badSeq]) => c.send(keys[f]!, keys[t]!, amt, badSeq ? { sequence: 99n } : {})));
          assert.equal(sumBalances(c.app), supply);
          assert.equal(getSupply(c.app.state), supply);
          for (const k of keys) assert.ok(balance(c.app, k) >= 0n);
        }
        await c.close();
      },
    ),
    { numRuns: 25 },
  );
});

test('property: replaying the same blocks on a fresh app gives the same app hashes', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(fc.tuple(fc.nat(3), fc.nat(3), fc.bigInt(1n, 300_000n)), { maxLength: 8 }), { minLength: 1, maxLength: 4 }), async (blocks) => {
      const a = await chain(keys.map((k) => [k, 500_000n]));
      const blockTxs = blocks.map((b) => b.map(([f, t, amt]) => a.send(keys[f]!, keys[t]!, amt)));
      const hashesA: string[] = [];
      for (const txs of blockTxs) hashesA.push(toHex((await a.block(txs)).appHash));
      const b = await chain(keys.map((k) => [k, 500_000n]));
      const hashesB: string[] = [];
      for (const txs of blockTxs) hashesB.push(toHex((await b.block(txs)).appHash));
      assert.deepEqual(hashesB, hashesA);
      await a.close();
      await b.close();
    }),
    { numRuns: 15 },
  );
});
