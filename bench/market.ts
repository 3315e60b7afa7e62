/**
 * Market benchmark: matching and settlement at scale.
 *
 * 1. Setup (not timed): a real App on a fresh LMDB store; `--providers` (default 100,000)
 *    operators each onboard a storage device (maker and device signatures verified), bond stake
 *    and register as providers; a customer posts `--orders` (default 10,000) orders of
 *    `--replicas` (default 10) leases each; every provider bids on one order (so each order gets
 *    providers ÷ orders bids, at varied prices). Written through the keepers in large blocks.
 * 2. Matching: the block in which every order's bid window closes (end block: re-check each
 *    bid's eligibility, rank, make leases, refund losers), finalize + commit.
 *    `orders_matched_per_s` = orders ÷ that block's time; `p50/p99_match_ms` = the per-order
 *    matching time, measured order by order on a throwaway copy of the same state first.
 * 3. Settlement: the block in which all the leases (orders × replicas, 100,000 by default) end
 *    together: each order settles its leases (payments with the take, closes, refunds),
 *    finalize + commit → `settle_s`, `leases_settled`.
 * Reference measured in the same run: `state_reads_per_s` (random committed-state gets), and
 * `reads_per_match` = matching time per order in state reads.
 *
 * Options: --providers N, --orders N, --replicas N, --keep.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash as oneShot } from 'node:crypto';
import { Ed25519Key, encodeAddress } from '../src/core/keys.js';
import { toHex } from '../src/core/bytes.js';
import { Database } from '../src/state/db.js';
import { StateStore } from '../src/state/store.js';
import { Overlay } from '../src/state/overlay.js';
import { Context } from '../src/chain/context.js';
import { createApp, marketDeps, standardModules } from '../src/chain/index.js';
import { parseGenesis } from '../src/chain/genesis.js';
import { onboardDevice } from '../src/chain/modules/devices/keeper.js';
import { deviceSignBytes, makerSignBytes, NO_CAPABILITIES } from '../src/chain/modules/devices/types.js';
import { spendCredits } from '../src/chain/modules/credits/keeper.js';
import { delegate, votingPowerOf } from '../src/chain/modules/staking/keeper.js';
import { createOrder, getOrder, leaseIdsOf, matchOrder, placeBid, registerProvider } from '../src/chain/modules/market/keeper.js';
import { orderKey } from '../src/chain/modules/market/keys.js';
import { workerLeafHasher } from '../src/core/leafworker.js';
import { numberOption } from './args.js';

const log = (m: string) => process.stderr.write(`[market] ${m}\n`);
const GW = 1_000_000n;
const GiB = 1n << 30n;
const CHAIN = 'bench-market';

function seedKey(label: string): Ed25519Key {
  return Ed25519Key.fromSeed(new Uint8Array(oneShot('sha256', label, 'buffer')));
}

export async function marketBench(args: string[]): Promise<Record<string, unknown>> {
  const nProviders = numberOption(args, 'providers', 100_000);
  const nOrders = numberOption(args, 'orders', 10_000);
  const replicas = numberOption(args, 'replicas', 10);
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-market-'));
  const db = new Database(dir, { noSync: true });
  try {
    const validator = Ed25519Key.generate();
    const customer = seedKey('customer');
    const maker = seedKey('maker');
    log(`deriving ${nProviders} provider and device keys...`);
    const providers = Array.from({ length: nProviders }, (_, i) => seedKey(`p${i}`));
    const devices = Array.from({ length: nProviders }, (_, i) => seedKey(`d${i}`));
    const genesis = {
      chainId: CHAIN,
      genesisTime: '2026-11-21T00:00:00Z',
      validators: [{ name: 'v0', pubKey: toHex(validator.publicKey), power: '1', rewardAddress: encodeAddress(validator.address) }],
      app: {
        bank: { balances: [customer, ...providers].map((k, i) => ({ address: encodeAddress(k.address), amount: (i === 0 ? 1_000_000_000n * GW : 1_000n * GW).toString() })) },
        credits: { balances: providers.map((k) => ({ address: encodeAddress(k.address), amount: '100000000' })) },
        devices: { makers: [{ name: 'acme', pubKey: toHex(maker.publicKey) }] },
      },
    };
    const app = createApp(new StateStore(db), { leafHasher: workerLeafHasher() });
    await app.initChain(parseGenesis(genesis, standardModules()));
    let time = 1_795_000_000_000n;
    const info = () => ({ chainId: CHAIN, height: BigInt(app.height + 1), time: (time += 1000n), proposer: validator.publicKey });
    /** A block whose writes come straight from keeper calls (the state a block of the same txs leaves). */
    const setupBlock = async (fn: (ctx: Context) => void): Promise<void> => {
      const overlay = new Overlay(app.store);
      const ctx = new Context(info(), overlay);
      fn(ctx);
      const prepared = app.store.prepare(app.height + 1, overlay.changes);
      await db.write(prepared.ops);
      app.store.committed(prepared);
    };
    const t0 = performance.now();
    const BATCH = 10_000;
    const caps = { ...NO_CAPABILITIES, capacityBytes: 64n * GiB, bandwidthMbps: 1000 };
    for (let s = 0; s < nProviders; s += BATCH) {
      await setupBlock((ctx) => {
        for (let i = s; i < Math.min(nProviders, s + BATCH); i++) {
          const p = providers[i] as Ed25519Key;
          const d = devices[i] as Ed25519Key;
          onboardDevice(ctx, { credits: { spendCredits }, stake: { stakeOf: votingPowerOf } }, p.address, {
            kind: 'storage',
            deviceKey: d.publicKey,
            maker: 'acme',
            makerSignature: maker.sign(makerSignBytes(CHAIN, 'storage', d.publicKey)),
            deviceSignature: d.sign(deviceSignBytes(CHAIN, p.address)),
            capabilities: caps,
          });
          delegate(ctx, p.address, p.address, 200n * GW);
          registerProvider(ctx, p.address, { hostUri: `http://10.0.${(i >> 8) & 255}.${i & 255}:8700`, attributes: [{ key: 'tier', value: i % 2 ? 'home' : 'datacenter' }] });
        }
      });
      log(`providers ${Math.min(nProviders, s + BATCH)}/${nProviders}`);
    }
    // Orders: all windows close at the same height.
    const window = 4n;
    const duration = 20n;
    let matchHeight = 0n;
    await setupBlock((ctx) => {
      for (let k = 0; k < nOrders; k++) {
        createOrder(ctx, marketDeps, customer.address, {
          spec: { type: 'storage', value: { bytes: GiB, durationBlocks: duration } },
          replicas,
          region: [],
          attributes: [],
          minReputationBps: 0,
          maxPrice: 10_000n,
          denom: 'ugw',
          deposit: 10_000n * BigInt(replicas) * (duration + 5n),
          bidWindowBlocks: window,
        });
      }
      matchHeight = ctx.block.height + window;
    });
    for (let s = 0; s < nProviders; s += BATCH) {
      await setupBlock((ctx) => {
        for (let i = s; i < Math.min(nProviders, s + BATCH); i++) {
          const p = providers[i] as Ed25519Key;
          const price = 1_000n + BigInt((i * 7919) % 9_000);
          placeBid(ctx, marketDeps, p.address, { order: BigInt((i % nOrders) + 1), device: (devices[i] as Ed25519Key).publicKey, price });
        }
      });
    }
    app.resetCheckState();
    log(`setup ${((performance.now() - t0) / 1000).toFixed(1)} s, height ${app.height}, matching at ${matchHeight}`);
    while (BigInt(app.height + 1) < matchHeight) {
      app.finalizeBlock(info(), []);
      await app.commit();
    }
    app.resetCheckState();

    // Reference: random committed-state reads.
    const keys = Array.from({ length: 100_000 }, (_, i) => orderKey(BigInt((i * 7) % nOrders) + 1n));
    const r0 = performance.now();
    for (const k of keys) app.state.get(k);
    const readsPerS = keys.length / ((performance.now() - r0) / 1000);

    // Per-order matching time, on a throwaway copy of the state at the matching height.
    log('timing each match on a throwaway overlay...');
    const scratch = new Overlay(app.store);
    const sctx = new Context({ chainId: CHAIN, height: matchHeight, time, proposer: validator.publicKey }, scratch);
    const per: number[] = [];
    for (let k = 1n; k <= BigInt(nOrders); k++) {
      const o = getOrder(scratch, k);
      if (!o) continue;
      const a = performance.now();
      matchOrder(sctx, marketDeps, k, o);
      per.push(performance.now() - a);
    }
    per.sort((a, b) => a - b);
    const pct = (q: number) => per[Math.min(per.length - 1, Math.floor(q * per.length))] as number;

    // The real matching block.
    if (global.gc) global.gc();
    log('matching block...');
    const m0 = performance.now();
    const mr = app.finalizeBlock(info(), []);
    const m1 = performance.now();
    await app.commit();
    const matchS = (performance.now() - m0) / 1000;
    app.resetCheckState();
    const leases = mr.endEvents.filter((e) => e.type === 'market.lease.created').length;
    log(`matched ${nOrders} orders in ${matchS.toFixed(2)} s (finalize ${((m1 - m0) / 1000).toFixed(2)} s): ${leases} leases`);
    const first = getOrder(app.state, 1n);
    if (!first || first.status !== 'active' || leaseIdsOf(app.state, 1n).length !== replicas) throw new RangeError(`order 1 did not match: ${first?.status}`);

    // Settlement: every lease ends at matchHeight + duration.
    while (BigInt(app.height + 1) < matchHeight + duration) {
      app.finalizeBlock(info(), []);
      await app.commit();
    }
    if (global.gc) global.gc();
    log('settlement block...');
    const s0 = performance.now();
    const sr = app.finalizeBlock(info(), []);
    const s1 = performance.now();
    await app.commit();
    const settleS = (performance.now() - s0) / 1000;
    const closed = sr.endEvents.filter((e) => e.type === 'market.lease.closed').length;
    log(`settled and closed ${closed} leases in ${settleS.toFixed(2)} s (finalize ${((s1 - s0) / 1000).toFixed(2)} s)`);
    if (closed !== leases) throw new RangeError(`expected ${leases} lease closes, got ${closed}`);
    const p50 = pct(0.5);
    return {
      providers: nProviders,
      orders: nOrders,
      bids: nProviders,
      leases,
      orders_matched_per_s: Math.round(nOrders / matchS),
      match_block_s: +matchS.toFixed(3),
      p50_match_ms: +p50.toFixed(3),
      p99_match_ms: +pct(0.99).toFixed(3),
      settle_s: +settleS.toFixed(3),
      leases_settled: closed,
      state_reads_per_s: Math.round(readsPerS),
      reads_per_match: +((p50 / 1000) * readsPerS).toFixed(1),
      target_orders_matched_per_s: 10_000,
    };
  } finally {
    await db.close();
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

