import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode } from '../../../core/codec.js';
import { testKey } from '../../../testkit/index.js';
import { attr, type Event } from '../../events.js';
import { BANK_ACCOUNT_PREFIX, prefixEnd } from '../../keys.js';
import { accountCodec, getAccount, getSupply } from '../bank/keeper.js';
import { GW, govChain } from './harness.test.js';
import { GOV_ESCROW_ADDRESS, iterateProposals, TREASURY_ADDRESS } from './keeper.js';
import { VOTE_OPTIONS } from './types.js';

const keys = [testKey('alice'), testKey('bob'), testKey('carol'), testKey('dave')];

const action = fc.oneof(
  fc.record({ kind: fc.constant('submit' as const), who: fc.nat(3), deposit: fc.bigInt(90n * GW, 150n * GW), spend: fc.option(fc.bigInt(0n, 300n * GW)) }),
  fc.record({ kind: fc.constant('vote' as const), who: fc.nat(3), id: fc.bigInt(1n, 8n), option: fc.constantFrom(...VOTE_OPTIONS) }),
  fc.record({ kind: fc.constant('power' as const), who: fc.nat(3), power: fc.bigInt(0n, 1000n) }),
);

test('property: supply changes only by burned deposits; escrow holds exactly the open deposits', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(action, { maxLength: 6 }), { minLength: 1, maxLength: 8 }), fc.boolean(), async (blocks, burnNoQuorum) => {
      const c = await govChain({
        balances: [...keys.map((k) => [k, 1_000n * GW] as [typeof k, bigint]), [TREASURY_ADDRESS, 100n * GW]],
        gov: { votingPeriod: '2', burnDepositNoQuorum: burnNoQuorum },
      });
      const initial = getSupply(c.app.state);
      let burned = 0n;
      const count = (events: Event[]) => {
        for (const e of events) if (e.type === 'gov.deposit' && attr(e, 'outcome') === 'burned') burned += BigInt(attr(e, 'amount') ?? '0');
      };
      const check = () => {
        let sum = 0n;
        for (const [, v] of c.app.state.iterate(BANK_ACCOUNT_PREFIX, prefixEnd(BANK_ACCOUNT_PREFIX))) sum += decode(accountCodec, v).balance;
        const supply = getSupply(c.app.state);
        assert.equal(sum, supply, 'balances add up to the supply');
        assert.equal(supply, initial - burned, 'supply moved only by burned deposits');
        let held = 0n;
        for (const { proposal } of iterateProposals(c.app.state)) if (proposal.depositState === 'held') held += proposal.deposit;
        assert.equal(getAccount(c.app.state, GOV_ESCROW_ADDRESS).balance, held, 'escrow = deposits of open proposals');
      };
      for (const b of blocks) {
        const txs = [];
        for (const a of b) {
          if (a.kind === 'power') c.staking.set(keys[a.who]!, a.power);
          else if (a.kind === 'vote') txs.push(c.vote(keys[a.who]!, a.id, a.option));
          else {
            const content = a.spend === null ? { type: 'text' as const, value: null } : { type: 'treasury-spend' as const, value: { to: keys[(a.who + 1) % 4]!.address, amount: a.spend } };
            txs.push(c.submit(keys[a.who]!, content, a.deposit));
          }
        }
        const r = await c.block(txs);
        count(r.endEvents);
        check();
      }
      // Close everything still open.
      for (let i = 0; i < 3; i++) {
        count((await c.block()).endEvents);
        check();
      }
      for (const { proposal } of iterateProposals(c.app.state)) assert.notEqual(proposal.status, 'voting');
      await c.close();
    }),
    { numRuns: 25 },
  );
});
