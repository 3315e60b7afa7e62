import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toHex, type Bytes } from '../../../core/bytes.js';
import { decode, string, struct, u128 } from '../../../core/codec.js';
import { encodeAddress, moduleAddress, type Ed25519Key } from '../../../core/keys.js';
import { testGenesis, testKey } from '../../../testkit/index.js';
import { testChain } from '../../../testkit/chain.js';
import type { App } from '../../app.js';
import { parseGenesis } from '../../genesis.js';
import { standardModules } from '../../index.js';
import { prefixEnd } from '../../keys.js';
import { msg, type Module } from '../../module.js';
import { getAccount, getSupply } from '../bank/keeper.js';
import { currentEpoch, epochsModule } from '../epochs/index.js';
import { mintingPrice } from '../oracle/keeper.js';
import { creditsModule } from './index.js';
import { creditTotalsCodec, dcForTokens, getCredits, getEpochTotals, getTotals, spendCredits, tokensForDc, type CreditTotals } from './keeper.js';
import { CREDITS_BALANCE_PREFIX, CREDITS_EPOCH_PREFIX } from './keys.js';

const validator = testKey('validator');
const reporter = testKey('reporter');
const alice = testKey('alice');
const bob = testKey('bob');
const carol = testKey('carol');
const FEE = 10_000n;

// ---- the conversion, by table ----

test('credits: DC = floor(ugw × micro-USD per GW / (1e6 × micro-USD per DC))', () => {
  const cases: Array<[string, bigint, bigint, bigint, bigint]> = [
    // what, amount ugw, price µUSD/GW, dcPrice µUSD, DC
    ['1 GW at $0.42, DC $0.00001', 1_000_000n, 420_000n, 10n, 42_000n], // $0.42 = 42,000 × $0.00001
    ['1 GW at $1', 1_000_000n, 1_000_000n, 10n, 100_000n],
    ['1 ugw at $0.42 buys nothing', 1n, 420_000n, 10n, 0n],
    ['23 ugw at $0.42: 0.966 DC → 0', 23n, 420_000n, 10n, 0n],
    ['24 ugw at $0.42: 1.008 DC → 1', 24n, 420_000n, 10n, 1n],
    ['1 GW at $0.000001 is $0.000001 → 0 DC', 1_000_000n, 1n, 10n, 0n],
    ['10 GW at $0.000001 → 1 DC', 10_000_000n, 1n, 10n, 1n],
    ['DC at $0.000001: 1 GW at $1 → 1e6 DC', 1_000_000n, 1_000_000n, 1n, 1_000_000n],
    ['DC at $1: 2.5 GW at $0.42 = $1.05 → 1 DC', 2_500_000n, 420_000n, 1_000_000n, 1n],
    ['$40 hotspot: 95,238,096 ugw at $0.42 → 4,000,000 DC', 95_238_096n, 420_000n, 10n, 4_000_000n],
    ['one ugw less → 3,999,999 DC', 95_238_095n, 420_000n, 10n, 3_999_999n],
    ['1e9 GW at $123.456789', 10n ** 15n, 123_456_789n, 10n, 12_345_678_900_000_000n],
    ['u128 max ugw at u64 max price (no overflow in bigint)', (1n << 128n) - 1n, (1n << 64n) - 1n, 10n, (((1n << 128n) - 1n) * ((1n << 64n) - 1n)) / 10_000_000n],
  ];
  for (const [what, amount, price, dcPrice, want] of cases) assert.equal(dcForTokens(amount, price, dcPrice), want, what);
});

test('credits: tokensForDc is the least amount that buys that many DC', () => {
  const cases: Array<[bigint, bigint, bigint, bigint]> = [
    // dc, price, dcPrice, ugw
    [1n, 420_000n, 10n, 24n], // 1e7 / 420000 = 23.8 → 24
    [4_000_000n, 420_000n, 10n, 95_238_096n],
    [1n, 1n, 10n, 10_000_000n],
    [100_000n, 1_000_000n, 10n, 1_000_000n], // exact: no rounding up
  ];
  for (const [dc, price, dcPrice, want] of cases) assert.equal(tokensForDc(dc, price, dcPrice), want, `${dc} DC at ${price}`);
});

test('property: minted DC are worth at most what was burned, and less than one DC short of it', () => {
  fc.assert(
    fc.property(fc.bigInt(0n, 10n ** 24n), fc.bigInt(1n, 10n ** 12n), fc.bigInt(1n, 10n ** 6n), (amount, price, dcPrice) => {
      const dc = dcForTokens(amount, price, dcPrice);
      // value in µUSD × 1e6 (exact): amount × price; the DC bought cost dc × dcPrice × 1e6
      const value = amount * price;
      assert.ok(dc * dcPrice * 1_000_000n <= value);
      assert.ok((dc + 1n) * dcPrice * 1_000_000n > value);
      const least = tokensForDc(dc, price, dcPrice);
      assert.ok(least <= amount && dcForTokens(least, price, dcPrice) >= dc);
      if (least > 0n) assert.ok(dcForTokens(least - 1n, price, dcPrice) < dc);
    }),
    { numRuns: 500 },
  );
});

// ---- on a real app ----

/** Stands in for a vertical (devices, storage...) that charges DC through spendCredits. */
const spendMsgCodec = struct('MsgTestSpend', { amount: u128, reason: string(64) });
const testVertical: Module = {
  name: 'testvertical',
  msgs: [msg('testvertical/spend', spendMsgCodec, (ctx, m) => spendCredits(ctx, ctx.sender as Uint8Array, m.amount, m.reason))],
};

/**
 * The standard modules this one works with, in their standard order, plus the stand-in vertical
 * before epochs. Modules that mint on their own (rewards' emission, and its epoch-end hook) are left out, so the supply
 * moves only by what credits burns.
 */
function modules(): Module[] {
  const ms = standardModules().filter((m) => ['consensus', 'auth', 'bank', 'oracle', 'credits'].includes(m.name));
  return [...ms, testVertical, epochsModule({ onEpochEnd: [] }) as Module];
}

interface ChainOpts {
  balances?: Array<[Ed25519Key, bigint]>;
  oracle?: Record<string, unknown>;
  credits?: Record<string, unknown>;
  blocksPerEpoch?: number;
}

async function chain(o: ChainOpts = {}) {
  const c = await testChain({
    modules: modules(),
    validator,
    fee: FEE,
    balances: o.balances ?? [alice, bob, carol, reporter].map((k) => [k, 100_000_000n]),
    app: {
      oracle: { params: { reporters: [encodeAddress(reporter.address)], minReports: 1, maxAgeBlocks: '10', emaAlphaBps: 10_000, haircutBps: 0, confidenceBps: 0, ...o.oracle } },
      epochs: { params: { blocksPerEpoch: String(o.blocksPerEpoch ?? 1000) } },
      ...(o.credits ? { credits: o.credits } : {}),
    },
  });
  return Object.assign(c, {
    report(price: bigint): Bytes {
      return c.tx(reporter, [{ type: 'oracle/report', value: { price } }]);
    },
    mint(from: Ed25519Key, amount: bigint, to?: Ed25519Key): Bytes {
      return c.tx(from, [{ type: 'credits/mint', value: { amount, to: to ? to.address : null } }]);
    },
    spend(from: Ed25519Key, amount: bigint, reason = 'test/usage'): Bytes {
      return c.tx(from, [{ type: 'testvertical/spend', value: { amount, reason } }]);
    },
  });
}

type Chain = Awaited<ReturnType<typeof chain>>;

function sumCredits(app: App): bigint {
  let t = 0n;
  for (const [, v] of app.state.iterate(CREDITS_BALANCE_PREFIX, prefixEnd(CREDITS_BALANCE_PREFIX))) t += decode(u128, v);
  return t;
}

function sumEpochTotals(app: App): CreditTotals {
  const t = { tokensBurned: 0n, dcMinted: 0n, dcBurned: 0n };
  for (const [, v] of app.state.iterate(CREDITS_EPOCH_PREFIX, prefixEnd(CREDITS_EPOCH_PREFIX))) {
    const e = decode(creditTotalsCodec, v);
    t.tokensBurned += e.tokensBurned;
    t.dcMinted += e.dcMinted;
    t.dcBurned += e.dcBurned;
  }
  return t;
}

const bal = (c: Chain, k: Ed25519Key) => getAccount(c.app.state, k.address).balance;

test('credits: minting burns the tokens, credits DC at the oracle price and counts both in the epoch', async () => {
  const c = await chain();
  await c.block([c.report(420_000n)]); // $0.42 per GW
  const supply = getSupply(c.app.state);
  const r = await c.block([c.mint(alice, 2_000_000n), c.mint(bob, 1_000_000n, carol)]);
  assert.equal(r.txResults[0]?.code, 0, r.txResults[0]?.log);
  assert.equal(r.txResults[1]?.code, 0, r.txResults[1]?.log);
  assert.equal(getCredits(c.app.state, alice.address), 84_000n);
  assert.equal(getCredits(c.app.state, carol.address), 42_000n, 'to: another address');
  assert.equal(getCredits(c.app.state, bob.address), 0n);
  assert.equal(getSupply(c.app.state), supply - 3_000_000n, 'the tokens are gone from the supply');
  assert.equal(bal(c, alice), 100_000_000n - 2_000_000n - FEE);
  const ev = r.txResults[1]?.events.find((e) => e.type === 'credits.mint');
  assert.ok(ev, 'credits.mint event');
  const attrs = Object.fromEntries(ev.attributes.map((a) => [a.key, a.value]));
  assert.deepEqual(
    { ...attrs },
    { sender: encodeAddress(bob.address), recipient: encodeAddress(carol.address), burned: '1000000', dc: '42000', price: '420000', epoch: '0' },
  );
  const want = { tokensBurned: 3_000_000n, dcMinted: 126_000n, dcBurned: 0n };
  assert.deepEqual(getEpochTotals(c.app.state, 0n), want);
  assert.deepEqual(getTotals(c.app.state), want);
  await c.close();
});

test('credits: the fraction of a DC is not issued and the tokens stay burned', async () => {
  const c = await chain();
  await c.block([c.report(420_000n)]);
  const supply = getSupply(c.app.state);
  await c.block([c.mint(alice, 95_238_095n)]); // 3,999,999.99 DC
  assert.equal(getCredits(c.app.state, alice.address), 3_999_999n);
  assert.equal(getSupply(c.app.state), supply - 95_238_095n);
  await c.close();
});

test('credits: spending burns DC and counts them in the epoch they were spent in', async () => {
  const c = await chain({ blocksPerEpoch: 3 });
  await c.block([c.report(1_000_000n)]); // 1 (epoch 0: heights 1..3)
  await c.block([c.mint(alice, 1_000_000n)]); // 2: 100,000 DC
  await c.block([c.spend(alice, 30_000n, 'devices/onboard')]); // 3
  await c.block([c.spend(alice, 20_000n)]); // 4: epoch 1
  assert.equal(currentEpoch(c.app.state), 1n);
  assert.equal(getCredits(c.app.state, alice.address), 50_000n);
  assert.deepEqual(getEpochTotals(c.app.state, 0n), { tokensBurned: 1_000_000n, dcMinted: 100_000n, dcBurned: 30_000n });
  assert.deepEqual(getEpochTotals(c.app.state, 1n), { tokensBurned: 0n, dcMinted: 0n, dcBurned: 20_000n });
  assert.deepEqual(getTotals(c.app.state), { tokensBurned: 1_000_000n, dcMinted: 100_000n, dcBurned: 50_000n });
  const r = await c.block([c.spend(alice, 50_001n)]);
  assert.equal(r.txResults[0]?.error, 'INSUFFICIENT_CREDITS');
  assert.match(r.txResults[0]?.log ?? '', /has 50000 DC, test\/usage needs 50001 DC/);
  assert.equal(getCredits(c.app.state, alice.address), 50_000n);
  const r2 = await c.block([c.spend(alice, 50_000n)]);
  assert.equal(r2.txResults[0]?.code, 0);
  assert.equal(getCredits(c.app.state, alice.address), 0n);
  assert.equal(sumCredits(c.app), 0n, 'an emptied balance leaves no entry');
  await c.close();
});

test('credits: DC cannot be sent (there is no transfer message)', () => {
  const types = creditsModule().msgs?.map((m) => m.type);
  assert.deepEqual(types, ['credits/mint']);
});

test('credits: every bad mint is refused with its own error and leaves DC, supply and totals unchanged', async () => {
  const c = await chain({ oracle: { maxAgeBlocks: '3' } });
  const snapshot = () => ({ supply: getSupply(c.app.state), dc: sumCredits(c.app), totals: getTotals(c.app.state), alice: getCredits(c.app.state, alice.address) });
  const attempt = async (name: string, tx: Bytes, codespace: string, kind: string, logRe?: RegExp) => {
    const before = snapshot();
    const aliceTokens = bal(c, alice);
    const check = c.app.checkTx({ bytes: tx });
    assert.equal(check.error, kind, `${name} (check): ${check.log}`);
    c.app.resetCheckState();
    const r = await c.block([tx]);
    assert.equal(r.txResults[0]?.codespace, codespace, name);
    assert.equal(r.txResults[0]?.error, kind, name);
    if (logRe) assert.match(r.txResults[0]?.log ?? '', logRe, name);
    assert.deepEqual(snapshot(), before, `${name}: nothing changed`);
    assert.equal(bal(c, alice), aliceTokens - FEE, `${name}: only the fee was charged`);
  };
  await attempt('no price yet', c.mint(alice, 1_000_000n), 'oracle', 'NO_PRICE', /none of the 1 listed reporter/);
  await c.block([c.report(420_000n)]); // height 2, fresh through 5
  await attempt('zero amount', c.mint(alice, 0n), 'credits', 'INVALID_AMOUNT');
  await attempt('buys 0 DC', c.mint(alice, 23n), 'credits', 'AMOUNT_TOO_SMALL', /burn at least 24ugw/);
  await attempt('more tokens than held', c.mint(alice, 10n ** 12n), 'bank', 'INSUFFICIENT_FUNDS');
  assert.equal(c.next, 6n);
  await attempt('stale price', c.mint(alice, 1_000_000n), 'oracle', 'PRICE_STALE', /0 of 1 report/);
  // and a good one still works once the price is fresh again
  await c.block([c.report(420_000n)]);
  const r = await c.block([c.mint(alice, 1_000_000n)]);
  assert.equal(r.txResults[0]?.code, 0, r.txResults[0]?.log);
  assert.equal(getCredits(c.app.state, alice.address), 42_000n);
  await c.close();
});

test('credits: genesis Data Credits count as minted; bad genesis is refused', async () => {
  const c = await chain({ credits: { balances: [{ address: encodeAddress(bob.address), amount: '500' }] } });
  assert.equal(getCredits(c.app.state, bob.address), 500n);
  assert.deepEqual(getTotals(c.app.state), { tokensBurned: 0n, dcMinted: 500n, dcBurned: 0n });
  await c.close();
  const dup = { balances: [1, 2].map(() => ({ address: encodeAddress(bob.address), amount: '1' })) };
  assert.throws(() => parseGenesis(testGenesis({ app: { credits: dup } }), standardModules()), /duplicate address/);
  assert.throws(() => parseGenesis(testGenesis({ app: { credits: { params: { dcPriceMicroUsd: '0' } } } }), standardModules()), /dcPriceMicroUsd/);
});

test('credits: the minting price is the oracle conservative price, not the median', async () => {
  // EMA with a 10 % step: after a jump from $1 to $2, min(median, ema) is the EMA.
  const c = await chain({ oracle: { emaAlphaBps: 1000, haircutBps: 500 }, credits: { params: { dcPriceMicroUsd: '100' } } });
  await c.block([c.report(1_000_000n)]);
  await c.block([c.report(2_000_000n)]); // ema 1,100,000
  const price = mintingPrice(c.app.state, c.next);
  assert.equal(price, (1_100_000n * 9_500n) / 10_000n);
  const r = await c.block([c.mint(alice, 3_333_333n)]);
  assert.equal(r.txResults[0]?.code, 0, r.txResults[0]?.log);
  assert.equal(getCredits(c.app.state, alice.address), dcForTokens(3_333_333n, price, 100n));
  await c.close();
});

const keys = [alice, bob, carol];

test('property: tokens burned == supply drop and DC minted == Σ DC balances + DC burned, per epoch and in total', async () => {
  const action = fc.oneof(
    fc.record({ kind: fc.constant('mint' as const), from: fc.nat(2), to: fc.option(fc.nat(2), { nil: undefined }), amount: fc.bigInt(0n, 3_000_000n) }),
    fc.record({ kind: fc.constant('spend' as const), from: fc.nat(2), amount: fc.bigInt(0n, 200_000n) }),
    fc.record({ kind: fc.constant('price' as const), price: fc.bigInt(1n, 5_000_000n) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(action, { maxLength: 6 }), { minLength: 1, maxLength: 6 }), async (blocks) => {
      const c = await chain({ blocksPerEpoch: 2 });
      await c.block([c.report(420_000n)]);
      const supply0 = getSupply(c.app.state);
      for (const b of blocks) {
        const txs = b.map((a) =>
          a.kind === 'mint' ? c.mint(keys[a.from]!, a.amount, a.to === undefined ? undefined : keys[a.to]) : a.kind === 'spend' ? c.spend(keys[a.from]!, a.amount) : c.report(a.price),
        );
        await c.block(txs);
        const t = getTotals(c.app.state);
        assert.equal(supply0 - getSupply(c.app.state), t.tokensBurned, 'tokens burned == supply drop');
        assert.equal(t.dcMinted, sumCredits(c.app) + t.dcBurned, 'DC minted == Σ balances + DC burned');
        assert.deepEqual(sumEpochTotals(c.app), t, 'Σ epochs == running totals');
        for (const k of keys) assert.ok(getCredits(c.app.state, k.address) >= 0n);
      }
      await c.close();
    }),
    { numRuns: 20 },
  );
});

test('credits: the same blocks on a fresh app give the same app hashes', async () => {
  const run = async () => {
    const c = await chain({ blocksPerEpoch: 2, oracle: { emaAlphaBps: 3000, haircutBps: 250, confidenceBps: 20_000 } });
    const hashes: string[] = [];
    const plan = [[c.report(420_000n)], [c.mint(alice, 5_000_000n), c.report(433_333n)], [c.spend(alice, 12_345n), c.mint(bob, 777_777n, carol)], [], [c.report(1n), c.mint(carol, 10n)]];
    for (const txs of plan) hashes.push(toHex((await c.block(txs)).appHash));
    await c.close();
    return hashes;
  };
  assert.deepEqual(await run(), await run());
});

test('credits: minting and spending never touch a module account (burned tokens leave the supply)', async () => {
  const c = await chain();
  await c.block([c.report(420_000n)]);
  await c.block([c.mint(alice, 1_000_000n)]);
  assert.equal(getAccount(c.app.state, moduleAddress('credits')).balance, 0n);
  await c.close();
});
