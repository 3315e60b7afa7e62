/**
 * Rewards benchmark: closing an epoch whose every recipient reported work, and claiming.
 *
 * 1. Setup (not timed): a real App on a fresh LMDB store; `--recipients` (default 1,000,000)
 *    addresses each get a contribution recorded through recordContribution — the same path a
 *    vertical's verified report takes — committed in blocks of 100,000.
 * 2. epoch_close_s: the block that ends the epoch (finalizeBlock: emission, manifest, root,
 *    artifacts) plus its commit (state + artifact writes durable).
 * 3. ratio: epoch_close_s ÷ the time to SHA-256 every manifest leaf (0x00 || canonical line) on
 *    this thread in the same run — the floor any manifest commitment has to pay.
 * 4. claims_per_s: `--claims` (default 20,000) signed claim txs, each with its Merkle proof,
 *    executed in blocks through finalizeBlock + commit (signature checks included).
 *
 * Options: --recipients N, --claims N, --keep.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash as oneShot } from 'node:crypto';
import { Ed25519Key, encodeAddress } from '../src/core/keys.js';
import { encode } from '../src/core/codec.js';
import { Database } from '../src/state/db.js';
import { StateStore } from '../src/state/store.js';
import { Overlay } from '../src/state/overlay.js';
import { Context } from '../src/chain/context.js';
import { createApp, standardModules } from '../src/chain/index.js';
import { parseGenesis } from '../src/chain/genesis.js';
import { buildTx } from '../src/chain/tx.js';
import { recordContribution, getEpochRecord } from '../src/chain/modules/rewards/keeper.js';
import { Manifest, detailsHash, rewardLineCodec, manifestMetaCodec } from '../src/chain/modules/rewards/manifest.js';
import { manifestMetaKey, manifestChunkKey } from '../src/chain/modules/rewards/keys.js';
import { decode } from '../src/core/codec.js';
import { numberOption } from './args.js';
import { workerLeafHasher } from '../src/core/leafworker.js';

const log = (m: string) => process.stderr.write(`[rewards] ${m}\n`);

export async function rewardsBench(args: string[]): Promise<Record<string, unknown>> {
  const recipients = numberOption(args, 'recipients', 1_000_000);
  const claims = numberOption(args, 'claims', 20_000);
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-rewards-'));
  const db = new Database(dir, { noSync: true });
  try {
    const validator = Ed25519Key.generate();
    const claimer = Ed25519Key.generate();
    const blocksPerEpoch = 3;
    const genesis = {
      chainId: 'bench-rewards',
      genesisTime: '2026-11-21T00:00:00Z',
      validators: [{ name: 'v0', pubKey: Buffer.from(validator.publicKey).toString('hex'), power: '1', rewardAddress: encodeAddress(validator.address) }],
      app: {
        bank: { balances: [{ address: encodeAddress(claimer.address), amount: '1000000000000' }] },
        epochs: { params: { blocksPerEpoch: String(blocksPerEpoch) } },
      },
    };
    const app = createApp(new StateStore(db), { leafHasher: workerLeafHasher() });
    await app.initChain(parseGenesis(genesis, standardModules()));
    let time = 1_795_000_000_000n;
    const info = () => ({ chainId: 'bench-rewards', height: BigInt(app.height + 1), time: (time += 1000n), proposer: validator.publicKey });

    // 1. Contributions: recipients in random order (as reports would arrive), one per recipient.
    log(`recording ${recipients} contributions...`);
    const t0 = performance.now();
    const BATCH = 100_000;
    for (let start = 0; start < recipients; start += BATCH) {
      // Setup writes go straight into a block's overlay (state entries identical to what the
      // report txs would leave) so the setup takes seconds, not the minutes of 1M signed txs.
      const overlay = new Overlay(app.store);
      const ctx = new Context(info(), overlay);
      for (let i = start; i < Math.min(recipients, start + BATCH); i++) {
        const recipient = Buffer.from(oneShot('sha256', `r${i}`, 'buffer').subarray(0, 20));
        const device = Buffer.from(oneShot('sha256', `d${i}`, 'buffer'));
        recordContribution(ctx, { statusOf: () => 'active' }, { recipient, pool: i % 3, units: BigInt(1 + (i % 1000)), reason: 'bench-work', device });
      }
      const prepared = app.store.prepare(app.height + 1, overlay.changes);
      await db.write(prepared.ops);
      app.store.committed(prepared);
    }
    app.resetCheckState();
    log(`setup ${((performance.now() - t0) / 1000).toFixed(1)} s, height ${app.height}`);
    // Advance to the epoch's last block (epoch 0 covers heights 1..blocksPerEpoch).
    while (app.height + 1 < blocksPerEpoch) {
      app.finalizeBlock(info(), []);
      await app.commit();
    }
    if (global.gc) global.gc();

    // 2. Close the epoch.
    log('closing the epoch...');
    const c0 = performance.now();
    const r = app.finalizeBlock(info(), []);
    const c1 = performance.now();
    await app.commit();
    const closeS = (performance.now() - c0) / 1000;
    log(`finalizeBlock ${((c1 - c0) / 1000).toFixed(2)} s, commit ${((performance.now() - c1) / 1000).toFixed(2)} s`);
    app.resetCheckState();
    const rec = getEpochRecord(app.state, 0n);
    if (!rec) throw new RangeError('epoch 0 did not close');
    log(`closed in ${closeS.toFixed(2)} s: ${rec.count} lines, root ${Buffer.from(rec.root).toString('hex').slice(0, 16)}…, events ${r.endEvents.length}`);

    // 3. The floor: SHA-256 of every leaf's bytes.
    const meta = decode(manifestMetaCodec, app.artifact(manifestMetaKey(0n)) as Uint8Array);
    const manifest = Manifest.fromArtifacts(0n, (c) => app.artifact(manifestChunkKey(0n, c)), meta);
    const preimages = manifest.lines.map((l, index) => {
      const body = encode(rewardLineCodec, { epoch: 0n, index, recipient: l.recipient, amount: l.amount, detailsHash: detailsHash(l.items) });
      const b = Buffer.allocUnsafe(1 + body.length);
      b[0] = 0;
      b.set(body, 1);
      return b;
    });
    const h0 = performance.now();
    for (const p of preimages) oneShot('sha256', p, 'binary');
    const hashS = (performance.now() - h0) / 1000;
    if (Buffer.compare(Buffer.from(manifest.root), Buffer.from(rec.root)) !== 0) throw new RangeError('manifest artifacts do not match the committed root');

    // 4. Claims.
    const n = Math.min(claims, manifest.lines.length);
    log(`building ${n} claim txs...`);
    const txs: Uint8Array[] = [];
    for (let k = 0; k < n; k++) {
      const index = Math.floor((k * manifest.lines.length) / n);
      const l = manifest.lines[index] as (typeof manifest.lines)[number];
      const value = { epoch: 0n, index, recipient: l.recipient, amount: l.amount, detailsHash: detailsHash(l.items), proof: manifest.proof(index) };
      txs.push(buildTx(app, claimer, { chainId: 'bench-rewards', sequence: BigInt(k), fee: 100_000n, msgs: [{ type: 'rewards/claim', value }] }));
    }
    const q0 = performance.now();
    let ok = 0;
    for (let s = 0; s < txs.length; s += 5_000) {
      const res = app.finalizeBlock(info(), txs.slice(s, s + 5_000).map((bytes) => ({ bytes })));
      await app.commit();
      ok += res.txResults.filter((t) => t.code === 0).length;
      if (ok !== Math.min(s + 5_000, txs.length)) throw new RangeError(`claim failed: ${res.txResults.find((t) => t.code !== 0)?.log}`);
    }
    const claimS = (performance.now() - q0) / 1000;
    return {
      recipients,
      lines: rec.count,
      epoch_close_s: +closeS.toFixed(3),
      leaf_hash_s: +hashS.toFixed(3),
      ratio: +(closeS / hashS).toFixed(2),
      claims: ok,
      claims_per_s: Math.round(ok / claimS),
      target_epoch_close_s: 10,
      target_ratio: 5,
    };
  } finally {
    await db.close();
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}
