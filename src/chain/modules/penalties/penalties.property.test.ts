/**
 * Property: whatever mix of faults, fraud evidence, disputes, reversals and blocks, the slash
 * escrow holds exactly the pending and disputed slashes, the burn queue lists exactly them at
 * their release heights, and supply drops by exactly what was burned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { struct, u64 } from '../../../core/codec.js';
import { msg, type Module } from '../../module.js';
import { getSupply } from '../bank/keeper.js';
import { BONDED_POOL, totalBonded } from '../staking/keeper.js';
import { encodeDoubleSignEvidence } from '../testvertical/types.js';
import { GW, alice, authority, bob, carol, dev, penChain } from './harness.test.js';
import { SLASH_ESCROW, listSlashes, reverseSlash } from './keeper.js';
import { QUEUE_PREFIX } from './keys.js';
import { readU64be } from '../../../core/bytes.js';

// Governance stands in here: a test message that calls reverseSlash as a passed proposal would.
const testGov: Module = { name: 'testgov', msgs: [msg('testgov/reverse', struct('TestReverse', { id: u64 }), (ctx, m) => reverseSlash(ctx, m.id))] };

type Op =
  | { t: 'fault'; d: number }
  | { t: 'fraud'; d: number; seq: number }
  | { t: 'dispute'; id: number; byOwner: boolean }
  | { t: 'reverse'; id: number }
  | { t: 'wait'; n: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('fault' as const), d: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ t: fc.constant('fraud' as const), d: fc.integer({ min: 0, max: 1 }), seq: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ t: fc.constant('dispute' as const), id: fc.integer({ min: 1, max: 3 }), byOwner: fc.boolean() }),
  fc.record({ t: fc.constant('reverse' as const), id: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ t: fc.constant('wait' as const), n: fc.integer({ min: 1, max: 6 }) }),
);

test('property: escrow = pending + disputed slashes, the queue lists exactly them, supply drops by exactly the burned', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
      const c = await penChain({
        penalties: { freeFaults: 1, jailFaults: 3, faultSlash: String(GW), disputeBlocks: '6', disputeExtensionBlocks: '3', fraudSlashBps: '700' },
        epochs: { blocksPerEpoch: '10000000' }, // no epoch closes: rewards mint nothing here
        extra: [testGov],
      });
      try {
        const devices = [dev(40), dev(41)];
        await c.delegate(alice, alice, 500n * GW);
        await c.delegate(bob, alice, 300n * GW);
        for (const d of devices) await c.onboard(alice, d);
        const supply0 = getSupply(c.app.state);
        for (const o of ops) {
          const d = devices[o.t === 'fault' || o.t === 'fraud' ? o.d : 0]!;
          if (o.t === 'fault') await c.run(authority, 'testvertical/fault', { device: d.publicKey, reason: 'missed-challenge' });
          else if (o.t === 'fraud') {
            const seq = BigInt(o.seq);
            await c.run(carol, 'penalties/evidence', { kind: 'double-signed-report', evidence: encodeDoubleSignEvidence(c.report(d, { seq, units: 1n }), c.report(d, { seq, units: 2n })) });
          } else if (o.t === 'dispute') await c.run(o.byOwner ? alice : bob, 'penalties/dispute', { id: BigInt(o.id), counterEvidence: Uint8Array.of(1), note: '' });
          else if (o.t === 'reverse') await c.run(bob, 'testgov/reverse', { id: BigInt(o.id) });
          else for (let i = 0; i < o.n; i++) await c.block();

          const slashes = listSlashes(c.app.state, { limit: 1000 });
          const held = slashes.filter((s) => s.status === 'pending' || s.status === 'disputed');
          const escrowed = held.reduce((n, s) => n + s.amount, 0n);
          const burned = slashes.filter((s) => s.status === 'burned').reduce((n, s) => n + s.amount, 0n);
          assert.equal(c.balance(SLASH_ESCROW), escrowed, 'the escrow holds exactly the pending and disputed slashes');
          assert.equal(getSupply(c.app.state), supply0 - burned, 'supply drops by exactly the burned slashes');
          const queued: string[] = [];
          const n = QUEUE_PREFIX.length;
          for (const [k] of c.app.state.iterate(QUEUE_PREFIX, Buffer.from('penalties/r'))) queued.push(`${readU64be(k, n + 8)}@${readU64be(k, n)}`);
          assert.deepEqual(queued.sort(), held.map((s) => `${s.id}@${s.releaseHeight}`).sort(), 'the queue lists exactly the held slashes');
          for (const s of held) assert.ok(s.releaseHeight > BigInt(c.app.height), 'nothing due is left unburned');
          assert.equal(c.balance(BONDED_POOL), totalBonded(c.app.state), 'the bonded pool balance equals the bonded total');
        }
      } finally {
        await c.close();
      }
    }),
    { numRuns: 25 },
  );
});
