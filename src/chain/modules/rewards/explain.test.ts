import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../core/codec.js';
import { sha256 } from '../../../core/hash.js';
import { utf8, type Bytes } from '../../../core/bytes.js';
import type { Ed25519Key } from '../../../core/keys.js';
import { Database } from '../../../state/db.js';
import { Overlay } from '../../../state/overlay.js';
import { StateStore } from '../../../state/store.js';
import { tempDir, testGenesis, testKey } from '../../../testkit/index.js';
import { Context } from '../../context.js';
import { parseGenesis } from '../../genesis.js';
import { createApp, standardModules } from '../../index.js';
import { buildTx, type DecodedMsg } from '../../tx.js';
import { explainKeys, explainLine, percent } from './explain.js';
import { getEpochRecord, recordContribution } from './keeper.js';
import { manifestChunkKey, manifestMetaKey } from './keys.js';
import { Manifest, manifestMetaCodec, type RewardItem } from './manifest.js';
import { rewardLineFromJSON, rewardLineJSON, type ParsedRewardLine } from './view.js';
import { verifyRewardAbsence } from '../../../client/actions/getRewardLine.js';

const validator = testKey('validator');
const alice = testKey('alice');
const bob = testKey('bob');
const carol = testKey('carol');
const dave = testKey('dave');
const whale = testKey('whale');
const GW = 1_000_000n;
const dev = (s: string): Bytes => sha256(utf8(`device/${s}`));
const WARNED = dev('warned');

async function setup() {
  const dir = tempDir('gw-explain-');
  const db = new Database(dir.path, { noSync: true });
  const app = createApp(new StateStore(db));
  const genesis = testGenesis({
    validator,
    balances: [
      [alice, 10_000n * GW],
      [bob, 10_000n * GW],
    ],
    app: { epochs: { params: { blocksPerEpoch: '6' } } },
  });
  await app.initChain(parseGenesis(genesis, standardModules()));
  let time = 1_767_225_600_000n;
  const seq = new Map<Ed25519Key, bigint>();
  const info = () => ({ chainId: 'test-chain', height: BigInt(app.height + 1), time: (time += 1000n), proposer: validator.publicKey });
  const tx = (from: Ed25519Key, msgs: DecodedMsg[]) => {
    const s = seq.get(from) ?? 0n;
    seq.set(from, s + 1n);
    return buildTx(app, from, { chainId: 'test-chain', sequence: s, fee: 100_000n, msgs });
  };
  const block = async (txs: Uint8Array[] = []) => {
    const r = app.finalizeBlock(info(), txs.map((bytes) => ({ bytes })));
    await app.commit();
    app.resetCheckState();
    for (const t of r.txResults) assert.equal(t.code, 0, t.log);
    return r;
  };
  // Stake: alice self-bonds (an operator without a consensus key), bob delegates to her.
  await block([
    tx(alice, [{ type: 'staking/delegate', value: { operator: alice.address, amount: 1_000n * GW } }]),
    tx(bob, [{ type: 'staking/delegate', value: { operator: alice.address, amount: 500n * GW } }]),
  ]);
  // Work: recorded through the same keeper call a vertical's verified report goes through.
  {
    const overlay = new Overlay(app.store);
    const ctx = new Context(info(), overlay);
    const devices = { statusOf: (_s: unknown, d: Bytes) => (Buffer.compare(Buffer.from(d), Buffer.from(WARNED)) === 0 ? ('warned' as const) : ('active' as const)) };
    const report = (who: Ed25519Key, pool: number, units: bigint, reason: string, device: Bytes) => recordContribution(ctx, devices, { recipient: who.address, pool, units, reason, device });
    report(alice, 0, 100n, 'storage-proof', dev('a1'));
    report(alice, 0, 30n, 'storage-proof', dev('a1')); // accumulates into the same entry
    report(alice, 2, 51n, 'coverage-beacon', WARNED); // warned: 50% → 25 weighted
    report(carol, 1, 7n, 'compute-job', dev('c1'));
    report(carol, 0, 3n, 'storage-retrieval', dev('c2'));
    report(whale, 0, 10n ** 15n, 'storage-proof', dev('w1'));
    report(dave, 0, 1n, 'storage-proof', dev('d1')); // rounds to 0 ugw next to the whale: no line
    const prepared = app.store.prepare(app.height + 1, overlay.changes);
    await db.write(prepared.ops);
    app.store.committed(prepared);
    app.resetCheckState();
  }
  while (!getEpochRecord(app.state, 0n)) await block();
  const record = getEpochRecord(app.state, 0n);
  assert.ok(record);
  const meta = decode(manifestMetaCodec, app.artifact(manifestMetaKey(0n)) as Uint8Array);
  const manifest = Manifest.fromArtifacts(0n, (c) => app.artifact(manifestChunkKey(0n, c)), meta);
  return {
    app,
    record,
    manifest,
    block,
    tx,
    async close() {
      await db.close();
      dir.cleanup();
    },
  };
}

/** A line as a client gets it: through its JSON form and back. */
function served(m: Manifest, index: number): ParsedRewardLine {
  return rewardLineFromJSON(rewardLineJSON(m.epoch, index, m.lines[index] as (typeof m.lines)[number], m.proof(index)));
}

test('explain: every line of a closed epoch recomputes from on-chain data and proves into the committed root', async () => {
  const c = await setup();
  try {
    const { app, record, manifest } = c;
    const state = (k: Bytes) => app.state.get(k) ?? null;
    assert.equal(manifest.lines.length, record.count);
    // alice (work + self-bond), bob (stake), carol (work), whale (work); dave rounded to nothing.
    assert.equal(record.count, 4);
    for (let i = 0; i < record.count; i++) {
      const line = served(manifest, i);
      const x = explainLine(record, line, state);
      assert.equal(x.ok, true, JSON.stringify(x.checks));
      for (const ch of x.checks) assert.equal(ch.ok, true, `${ch.id}: ${ch.detail}`);
      assert.equal(x.recomputed, line.amount);
      assert.equal(x.items.length, line.items.length);
      for (const it of x.items) assert.equal(it.check.ok, true, it.check.detail);
      // The pools' terms add up to the amount; each item's own floor never exceeds its pool's term.
      assert.equal(x.pools.reduce((a, p) => a + p.ugw, 0n), line.amount);
      for (const p of x.pools) assert.ok(p.roundingGain >= 0n && p.roundingGain < BigInt(line.items.length));
      // Every key explain reads is in state at the close.
      for (const k of explainKeys(line)) assert.ok(app.state.get(k), 'explain reads only existing entries');
    }
    assert.deepEqual(manifest.find(dave.address), [], 'dave rounded to 0 ugw: no line');

    // alice: her items, the warned device's multiplier, her shares.
    const ai = manifest.find(alice.address)[0] as number;
    const ax = explainLine(record, served(manifest, ai), state, { device: WARNED, claimed: false });
    const storage = ax.items.find((i) => i.pool === 'storage');
    assert.equal(storage?.units, 130n);
    assert.equal(storage?.weighted, 130n);
    assert.equal(storage?.multiplierBps, 10_000n);
    assert.equal(storage?.highlighted, false);
    const coverage = ax.items.find((i) => i.pool === 'coverage');
    assert.equal(coverage?.reason, 'coverage-beacon');
    assert.equal(coverage?.weighted, 25n); // floor(51 × 5000 / 10000)
    assert.equal(coverage?.multiplierBps, 4_901n); // 25 / 51, rounded down
    assert.equal(coverage?.highlighted, true);
    assert.equal(coverage?.sharePpm, 1_000_000n, 'the only coverage contributor takes the whole pool');
    assert.equal(coverage?.ugw, record.pools[2]?.alloc);
    const stake = ax.items.find((i) => i.type === 'stake');
    assert.equal(stake?.tokens, 1_000n * GW);
    assert.equal(record.stake, 1_500n * GW);
    assert.equal(stake?.sharePpm, 666_666n);
    assert.equal(stake?.ugw, ((record.pools[3]?.alloc as bigint) * 1_000n) / 1_500n);
    assert.equal(ax.claimed, false);
    assert.equal(percent(2n, 3n, 2), '66.66%');
    assert.equal(percent(25n, 51n, 0), '49%');
  } finally {
    await c.close();
  }
});

test('explain: a tampered item, amount, proof or index is caught', async () => {
  const c = await setup();
  try {
    const { app, record, manifest } = c;
    const state = (k: Bytes) => app.state.get(k) ?? null;
    const ai = manifest.find(alice.address)[0] as number;
    const honest = served(manifest, ai);
    const failed = (l: ParsedRewardLine) =>
      explainLine(record, l, state)
        .checks.filter((ch) => ch.ok === false)
        .map((ch) => ch.id);
    const withItems = (items: RewardItem[]): ParsedRewardLine => ({ ...honest, items });
    assert.deepEqual(failed(honest), []);

    // More units than recorded: the item does not match state, the items no longer hash to the
    // committed detailsHash, and the amount no longer follows from them.
    const inflated = withItems(honest.items.map((it) => (it.type === 'work' && it.value.pool === 2 ? { type: 'work', value: { ...it.value, units: it.value.units * 2n, weighted: it.value.weighted * 2n } } : it)));
    assert.deepEqual(failed(inflated), ['details', 'work', 'amount', 'root']);
    // The same with the details hash recomputed (a consistent lie): still caught by state and root.
    assert.deepEqual(failed({ ...inflated, detailsHash: sha256(new Uint8Array(1)) }), ['details', 'work', 'amount', 'root']);
    // A stake item worth more than the delegation was.
    const richer = withItems(honest.items.map((it) => (it.type === 'stake' ? { type: 'stake', value: { ...it.value, tokens: it.value.tokens + 1n } } : it)));
    assert.ok(failed(richer).includes('stake'));
    // An item that exists nowhere on chain.
    const invented = withItems([...honest.items.slice(0, 1), { type: 'work', value: { pool: 1, device: dev('ghost'), reason: 'compute-job', units: 5n, weighted: 5n } }, ...honest.items.slice(1)]);
    assert.ok(failed(invented).includes('work'));
    // A different amount with the honest items: the arithmetic and the root both refuse it.
    assert.deepEqual(failed({ ...honest, amount: honest.amount + 1n }), ['amount', 'root']);
    // A damaged proof, or the line moved to another index.
    const proof = honest.proof.map((p) => Uint8Array.from(p));
    const first = proof[0] as Uint8Array;
    first[0] = (first[0] as number) ^ 1;
    assert.deepEqual(failed({ ...honest, proof }), ['root']);
    assert.deepEqual(failed({ ...honest, index: (ai + 1) % record.count }), ['root']);
    assert.deepEqual(failed({ ...honest, index: record.count }), ['root']);
    // Someone else's line relabelled as alice's.
    const ci = manifest.find(carol.address)[0] as number;
    assert.ok(failed({ ...served(manifest, ci), recipient: alice.address }).length > 0);
    // State no longer retained: the item checks cannot run, but nothing fails.
    const gone = explainLine(record, honest, () => undefined);
    assert.equal(gone.ok, true);
    assert.equal(gone.checks.find((ch) => ch.id === 'work')?.ok, null);
  } finally {
    await c.close();
  }
});

test('explain: a proof that an address has no line (neighbours) verifies; a forged one does not', async () => {
  const c = await setup();
  try {
    const { record, manifest } = c;
    const leafJSON = (i: number) => {
      const j = rewardLineJSON(0n, i, manifest.lines[i] as (typeof manifest.lines)[number], manifest.proof(i));
      return { index: j.index, recipient: j.recipient, amount: j.amount, detailsHash: j.detailsHash, proof: j.proof };
    };
    // dave sorts somewhere among the 4 lines: find his neighbours the way the API does.
    let lo = 0;
    while (lo < manifest.lines.length && Buffer.compare(Buffer.from((manifest.lines[lo] as { recipient: Bytes }).recipient), Buffer.from(dave.address)) < 0) lo++;
    const absence = { before: lo > 0 ? leafJSON(lo - 1) : null, after: lo < manifest.lines.length ? leafJSON(lo) : null };
    verifyRewardAbsence(record, dave.address, absence);
    // Alice has a line: no pair of neighbours can hide it.
    const ai = manifest.find(alice.address)[0] as number;
    assert.throws(() => verifyRewardAbsence(record, alice.address, { before: ai > 0 ? leafJSON(ai - 1) : null, after: ai + 1 < record.count ? leafJSON(ai + 1) : null }), /not adjacent|first line|last line/);
    assert.throws(() => verifyRewardAbsence(record, alice.address, { before: null, after: null }), /sent no neighbouring lines/);
    assert.throws(() => verifyRewardAbsence(record, dave.address, undefined), /sent no proof/);
    const forged = { ...absence, ...(absence.after ? { after: { ...absence.after, amount: '1' } } : { before: { ...(absence.before as ReturnType<typeof leafJSON>), amount: '1' } }) };
    assert.throws(() => verifyRewardAbsence(record, dave.address, forged), /does not prove into the committed root/);
  } finally {
    await c.close();
  }
});

test('explain: a claimed line still explains; the claim pays exactly the line', async () => {
  const c = await setup();
  try {
    const { app, record, manifest } = c;
    const bi = manifest.find(bob.address)[0] as number;
    const line = served(manifest, bi);
    const before = (await import('../bank/keeper.js')).getAccount(app.state, bob.address).balance;
    await c.block([c.tx(bob, [{ type: 'rewards/claim', value: { epoch: 0n, index: bi, recipient: bob.address, amount: line.amount, detailsHash: line.detailsHash, proof: line.proof } }])]);
    const after = (await import('../bank/keeper.js')).getAccount(app.state, bob.address).balance;
    assert.equal(after - before, line.amount - 100_000n);
    const x = explainLine(record, line, (k) => app.state.get(k) ?? null, { claimed: true });
    assert.equal(x.ok, true);
    assert.equal(x.claimed, true);
  } finally {
    await c.close();
  }
});

test('API: a line with its proof verifies against the root; no line says whether contributions rounded to zero, with a proof of absence', async () => {
  const c = await setup();
  const { createApiServer } = await import('../../../api/server.js');
  const { verifyRewardLine } = await import('../../../client/actions/getRewardLine.js');
  const { encodeAddress } = await import('../../../core/keys.js');
  const backend = { app: c.app, get height() { return c.app.height; }, onBlock: () => () => {} } as unknown as Parameters<typeof createApiServer>[0];
  const api = await createApiServer(backend);
  try {
    const { record } = c;
    const get = async (url: string) => {
      const r = await api.inject({ method: 'GET', url });
      return { status: r.statusCode, body: JSON.parse(r.body) };
    };
    const ok = await get(`/v1/rewards/0/lines/${encodeAddress(alice.address)}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.count, record.count);
    const line = verifyRewardLine(record, alice.address, ok.body.lines[0]);
    assert.equal(line.items.length, 3);
    assert.equal(ok.body.lines[0].items.find((i: { pool: string }) => i.pool === 'coverage').weighted, '25');
    // Twice (from the cache) the same answer.
    assert.deepEqual((await get(`/v1/rewards/0/lines/${encodeAddress(alice.address)}`)).body, ok.body);

    const none = await get(`/v1/rewards/0/lines/${encodeAddress(dave.address)}`);
    assert.equal(none.status, 404);
    assert.equal(none.body.error.code, 'NO_REWARD_LINE');
    assert.equal(none.body.error.hasContributions, true);
    assert.match(none.body.error.message, /has no reward line in epoch 0: its 1 contribution\(s\) \(1 weighted units\) rounded to 0 ugw/);
    verifyRewardAbsence(record, dave.address, none.body.error.absence);
    const nobody = await get(`/v1/rewards/0/lines/${encodeAddress(testKey('nobody').address)}`);
    assert.equal(nobody.body.error.hasContributions, false);
    assert.match(nobody.body.error.message, /no contributions and no eligible stake at the close/);

    const open = await get(`/v1/rewards/1/lines/${encodeAddress(alice.address)}`);
    assert.equal(open.status, 404);
    assert.equal(open.body.error.code, 'EPOCH_NOT_CLOSED');
    assert.match(open.body.error.message, /epoch 1 has not closed yet: the current epoch is 1, it closes at height \d+ \(\d+ blocks left\)/);

    // The paged listing walks every line once.
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: { body: { lines: Array<{ recipient: string }>; next: string | null } } = await get(`/v1/rewards/0/lines?limit=3${after === null ? '' : `&after=${after}`}`);
      seen.push(...page.body.lines.map((l) => l.recipient));
      after = page.body.next;
    } while (after !== null);
    assert.deepEqual(seen, c.manifest.lines.map((l) => encodeAddress(l.recipient)));
  } finally {
    await api.close();
    await c.close();
  }
});
