import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bytes } from '../core/bytes.js';
import type { Ed25519Key } from '../core/keys.js';
import { parseGenesis } from '../chain/genesis.js';
import { createApp, standardModules } from '../chain/index.js';
import { buildTx } from '../chain/tx.js';
import { Database } from '../state/db.js';
import { StateStore } from '../state/store.js';
import { tempDir, testGenesis, testKey } from '../testkit/index.js';
import { Mempool } from './mempool.js';
import { inlineVerifier } from './sigpool.js';

const alice = testKey('mp-alice');
const bob = testKey('mp-bob');
const validator = testKey('validator');

async function setup(limits = { maxTxs: 1000, maxBytes: 1 << 20 }) {
  const dir = tempDir();
  const db = new Database(dir.path, { noSync: true });
  const app = createApp(new StateStore(db));
  await app.initChain(parseGenesis(testGenesis({ validator, balances: [[alice, 1_000_000n], [bob, 1_000_000n]] }), standardModules()));
  const mp = new Mempool(app, inlineVerifier, () => false, limits);
  const tx = (k: Ed25519Key, seq: bigint, amount = 1n): Bytes =>
    buildTx(app, k, { chainId: 'test-chain', sequence: seq, fee: 10_000n, msgs: [{ type: 'bank/send', value: { to: bob.address, amount } }] });
  const commit = async () => {
    const entries = mp.reap(1 << 30, 10_000);
    app.finalizeBlock({ chainId: 'test-chain', height: BigInt(app.height + 1), time: 1n, proposer: validator.publicKey }, entries.map((e) => ({ bytes: e.bytes, decoded: e.decoded, signatureChecked: true })));
    await app.store.db.write(app.commitOps());
    app.committed();
    return mp.update(entries);
  };
  return { app, mp, tx, commit, close: async () => { await db.close(); dir.cleanup(); } };
}

test('mempool: a sender can submit consecutive sequences in separate concurrent calls', async () => {
  const s = await setup();
  const rs = await Promise.all([s.mp.submit([s.tx(alice, 0n)]), s.mp.submit([s.tx(alice, 1n)]), s.mp.submit([s.tx(alice, 2n)])]);
  assert.deepEqual(rs.map((r) => r[0]?.code), [0, 0, 0]);
  assert.equal(s.mp.size, 3);
  // Arrival order matters: 4 before 3 is a gap.
  const [gap] = await s.mp.submit([s.tx(alice, 4n)]);
  assert.equal(gap?.error, 'SEQUENCE_GAP');
  await s.close();
});

test('mempool: duplicates, FIFO reaping, and removal on commit', async () => {
  const s = await setup();
  const a0 = s.tx(alice, 0n);
  const b0 = s.tx(bob, 0n);
  const [r1, r2, r3] = await s.mp.submit([a0, b0, a0]);
  assert.equal(r1?.code, 0);
  assert.equal(r2?.code, 0);
  assert.equal(r3?.error, 'DUPLICATE');
  assert.deepEqual(s.mp.reap(1 << 20, 10).map((e) => e.key), [r1?.hash, r2?.hash]);
  assert.deepEqual(s.mp.reap(1 << 20, 1).map((e) => e.key), [r1?.hash], 'block tx limit respected');
  await s.commit();
  assert.equal(s.mp.size, 0);
  const [again] = await s.mp.submit([s.tx(alice, 1n)]);
  assert.equal(again?.code, 0, 'the next sequence is accepted after the commit');
  await s.close();
});

test('mempool: re-check after a block evicts txs that no longer apply', async () => {
  const s = await setup();
  // Alice spends almost everything in one tx, then queues a second tx the balance cannot cover
  // once the first is committed... but both are admitted only if each fits at admission.
  assert.equal((await s.mp.submit([s.tx(alice, 0n, 900_000n)]))[0]?.code, 0);
  const [second] = await s.mp.submit([s.tx(alice, 1n, 200_000n)]);
  assert.equal(second?.error, 'INSUFFICIENT_FUNDS', 'admission sees the pending spend');
  assert.equal((await s.mp.submit([s.tx(alice, 1n, 50_000n)]))[0]?.code, 0);
  const { evicted } = await s.commit();
  assert.equal(evicted, 0);
  assert.equal(s.mp.size, 0);
  await s.close();
});

test('mempool: full mempool refuses with MEMPOOL FULL and a hint', async () => {
  const s = await setup({ maxTxs: 2, maxBytes: 1 << 20 });
  const rs = await s.mp.submit([s.tx(alice, 0n), s.tx(alice, 1n), s.tx(alice, 2n)]);
  assert.deepEqual(rs.map((r) => r.error), ['', '', 'FULL']);
  assert.match(rs[2]?.log ?? '', /retry after the next block/);
  await s.close();
});

test('property: replaying unaffected txs after a block gives the same mempool as re-checking them all', async () => {
  const fc = (await import('fast-check')).default;
  const senders = [alice, bob, testKey('mp-carol')];
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(2), fc.nat(2), fc.bigInt(1n, 400_000n)), { minLength: 1, maxLength: 25 }),
      fc.array(fc.nat(6), { minLength: 1, maxLength: 5 }),
      async (txSpecs, reaps) => {
        const a = await setup();
        const b = await setup();
        // Fund carol in both chains' genesis is not possible here; she simply has no funds.
        const seqs = [0n, 0n, 0n];
        const txs = txSpecs.map(([f, t, amt]) => {
          const from = senders[f]!;
          const to = senders[t]!;
          return buildTx(a.app, from, { chainId: 'test-chain', sequence: seqs[f]!++, fee: 10_000n, msgs: [{ type: 'bank/send', value: { to: to.address, amount: amt } }] });
        });
        const ra = await a.mp.submit(txs);
        const rb = await b.mp.submit(txs);
        assert.deepEqual(ra.map((r) => r.code), rb.map((r) => r.code));
        for (const k of reaps) {
          for (const s of [a, b]) {
            const entries = s.mp.reap(1 << 30, k);
            s.app.finalizeBlock({ chainId: 'test-chain', height: BigInt(s.app.height + 1), time: 1n, proposer: validator.publicKey }, entries.map((e) => ({ bytes: e.bytes, decoded: e.decoded, signatureChecked: true })));
            await s.app.store.db.write(s.app.commitOps());
            s.app.committed();
            if (s === b) for (const e of (s.mp as unknown as { entries: Map<string, { trace: unknown }> }).entries.values()) e.trace = undefined;
            s.mp.update(entries);
          }
          assert.deepEqual(a.mp.reap(1 << 30, 1000).map((e) => e.key), b.mp.reap(1 << 30, 1000).map((e) => e.key));
          // The check states agree: the same probes are admitted or refused the same way.
          for (let i = 0; i < senders.length; i++) {
            for (let q = 0n; q <= seqs[i]!; q++) {
              const probe = buildTx(a.app, senders[i]!, { chainId: 'test-chain', sequence: q, fee: 10_000n, msgs: [{ type: 'bank/send', value: { to: alice.address, amount: 50_000n } }] });
              const pa = a.app.checkTx({ bytes: probe, signatureChecked: true });
              const pb = b.app.checkTx({ bytes: probe, signatureChecked: true });
              assert.equal(`${pa.codespace}.${pa.error}`, `${pb.codespace}.${pb.error}`);
            }
          }
        }
        await a.close();
        await b.close();
      },
    ),
    { numRuns: 40 },
  );
});
