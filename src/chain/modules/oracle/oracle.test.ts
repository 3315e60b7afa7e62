import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Bytes } from '../../../core/bytes.js';
import { encodeAddress, type Ed25519Key } from '../../../core/keys.js';
import { ChainError } from '../../../core/errors.js';
import { testGenesis, testKey } from '../../../testkit/index.js';
import { testChain } from '../../../testkit/chain.js';
import { parseGenesis } from '../../genesis.js';
import { standardModules } from '../../index.js';
import { OracleErrors } from './errors.js';
import { oracleParams, priceView } from './index.js';
import { Overlay } from '../../../state/overlay.js';
import { getParams, setParams } from '../../module.js';
import { conservativePrice, emaStep, getEma, getReport, meanAbsDeviation, medianOf, medianPrice, mintingPrice } from './keeper.js';

const validator = testKey('validator');
const r1 = testKey('reporter-1');
const r2 = testKey('reporter-2');
const r3 = testKey('reporter-3');
const mallory = testKey('mallory');

async function chain(oracle: Record<string, unknown>, balances: Array<[Ed25519Key, bigint]> = [r1, r2, r3, mallory].map((k) => [k, 10_000_000n])) {
  const c = await testChain({ validator, balances, fee: 10_000n, app: { oracle: { params: oracle } } });
  return Object.assign(c, {
    report(from: Ed25519Key, price: bigint): Bytes {
      return c.tx(from, [{ type: 'oracle/report', value: { price } }]);
    },
  });
}

const addrs = (...ks: Ed25519Key[]) => ks.map((k) => encodeAddress(k.address));

function errorKind(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ChainError) return e.kind;
    throw e;
  }
  return 'none';
}

// ---- pure math ----

test('oracle: median of odd and even counts (even: floor of the mean of the middle two)', () => {
  const cases: Array<[bigint[], bigint]> = [
    [[5n], 5n],
    [[1n, 2n, 3n], 2n],
    [[1n, 100n, 101n], 100n],
    [[1n, 2n], 1n], // (1+2)/2 = 1.5 → 1
    [[1n, 3n], 2n],
    [[10n, 20n, 30n, 41n], 25n], // (20+30)/2
    [[10n, 20n, 31n, 41n], 25n], // (20+31)/2 = 25.5 → 25
    [[7n, 7n, 7n, 7n], 7n],
    [[420_000n, 420_001n], 420_000n],
  ];
  for (const [xs, want] of cases) assert.equal(medianOf(xs), want, `median of ${xs.join(',')}`);
});

test('oracle: mean absolute deviation from the median, rounded down', () => {
  const cases: Array<[bigint[], bigint, bigint]> = [
    [[100n], 100n, 0n],
    [[90n, 100n, 110n], 100n, 6n], // 20/3 = 6.67 → 6
    [[100n, 100n, 130n], 100n, 10n],
    [[1n, 2n], 1n, 0n], // 1/2 → 0
  ];
  for (const [xs, med, want] of cases) assert.equal(meanAbsDeviation(xs, med), want, `mad of ${xs.join(',')}`);
});

test('oracle: EMA step rounds the move toward zero, up and down', () => {
  const cases: Array<[bigint, bigint, bigint, bigint]> = [
    // ema, median, alphaBps, next
    [1000n, 2000n, 1000n, 1100n],
    [2000n, 1000n, 1000n, 1900n],
    [1000n, 1009n, 1000n, 1000n], // +0.9 → 0
    [1000n, 991n, 1000n, 1000n], // −0.9 → 0 (toward zero, not floor)
    [1000n, 1015n, 1000n, 1001n], // +1.5 → 1
    [1000n, 985n, 1000n, 999n], // −1.5 → −1
    [1000n, 5000n, 10_000n, 5000n], // alpha 100%: the median
    [420_000n, 430_000n, 2500n, 422_500n],
  ];
  for (const [ema, med, alpha, want] of cases) assert.equal(emaStep(ema, med, alpha), want, `${ema} → ${med} @ ${alpha}`);
});

test('oracle: conservative price = floor((min(median, ema) × (1 − haircut) − confidence × k) / 10000)', () => {
  const cases: Array<[bigint, bigint, bigint, bigint, bigint, bigint]> = [
    // median, ema, confidence, haircutBps, confidenceBps, price
    [420_000n, 420_000n, 0n, 0n, 20_000n, 420_000n],
    [420_000n, 400_000n, 0n, 0n, 20_000n, 400_000n], // ema lower
    [400_000n, 420_000n, 0n, 0n, 20_000n, 400_000n], // median lower
    [420_000n, 420_000n, 1_000n, 0n, 20_000n, 418_000n], // − 2 × confidence
    [420_000n, 420_000n, 0n, 500n, 0n, 399_000n], // − 5 %
    [420_000n, 420_000n, 1_000n, 500n, 20_000n, 397_000n],
    [3n, 3n, 0n, 5000n, 0n, 1n], // 1.5 → 1 (rounds down)
    [100n, 100n, 50n, 0n, 20_000n, 0n], // − 2 × 50 = 0: no price
    [100n, 100n, 60n, 0n, 20_000n, 0n], // negative: no price
  ];
  for (const [m, e, c, h, k, want] of cases) assert.equal(conservativePrice(m, e, c, h, k), want, `${m},${e},${c},${h},${k}`);
});

test('property: the conservative price never exceeds the median or the ema', () => {
  fc.assert(
    fc.property(fc.bigInt(1n, 10n ** 12n), fc.bigInt(1n, 10n ** 12n), fc.bigInt(0n, 10n ** 9n), fc.bigInt(0n, 9999n), fc.bigInt(0n, 100_000n), (m, e, c, h, k) => {
      const p = conservativePrice(m, e, c, h, k);
      assert.ok(p >= 0n && p <= m && p <= e);
    }),
  );
});

// ---- on a real app ----

test('oracle: reports from listed reporters form the median; too few fresh is PRICE_STALE, none is NO_PRICE', async () => {
  const c = await chain({ reporters: addrs(r1, r2, r3), minReports: 2, maxAgeBlocks: '5', emaAlphaBps: 1000, haircutBps: 0, confidenceBps: 0 });
  assert.equal(errorKind(() => medianPrice(c.app.state, c.next)), 'NO_PRICE');
  assert.equal(errorKind(() => mintingPrice(c.app.state, c.next)), 'NO_PRICE');

  let r = await c.block([c.report(r1, 400_000n)]); // height 1
  assert.equal(r.txResults[0]?.code, 0, r.txResults[0]?.log);
  assert.equal(r.txResults[0]?.events[1]?.type, 'oracle.report');
  assert.deepEqual(getReport(c.app.state, r1.address), { price: 400_000n, height: 1n });
  assert.equal(errorKind(() => medianPrice(c.app.state, c.next)), 'PRICE_STALE', 'one fresh report, two needed');
  assert.equal(getEma(c.app.state), undefined, 'no median, no EMA');

  r = await c.block([c.report(r2, 410_001n)]); // height 2
  assert.equal(medianPrice(c.app.state, c.next), 405_000n, 'even count: (400000 + 410001) / 2 rounded down');
  assert.deepEqual(getEma(c.app.state), { ema: 405_000n, height: 2n }, 'EMA starts at the first median');

  await c.block([c.report(r3, 500_000n)]); // height 3
  assert.equal(medianPrice(c.app.state, c.next), 410_001n, 'odd count: the middle one');
  // 405000 + trunc((410001 − 405000) × 1000 / 10000) = 405000 + 500
  assert.deepEqual(getEma(c.app.state), { ema: 405_500n, height: 3n });
  assert.equal(mintingPrice(c.app.state, c.next), 405_500n, 'min(median, ema)');

  // r1 (height 1) is fresh through height 6; at 7 it is out, r2 (2) and r3 (3) still count.
  await c.block(); // 4
  await c.block(); // 5
  await c.block(); // 6: last block r1 counts in
  assert.equal(c.next, 7n);
  assert.equal(medianPrice(c.app.state, 6n), 410_001n);
  assert.equal(medianPrice(c.app.state, 7n), (410_001n + 500_000n) / 2n, 'stale r1 excluded');
  await c.block(); // 7
  await c.block(); // 8: r2 stale at 8 (2 + 5 < 8), one fresh left
  assert.equal(errorKind(() => medianPrice(c.app.state, 8n)), 'PRICE_STALE');
  const emaAt7 = getEma(c.app.state);
  assert.equal(emaAt7?.height, 7n, 'the EMA stops moving once there is no median');
  const v = priceView(c.app.state, 8n);
  assert.equal(v.ok, false);
  assert.equal((v as { error?: string }).error, 'PRICE_STALE');
  assert.deepEqual(
    v.reports.map((x) => [x.reporter, x.age, x.fresh]),
    [
      [encodeAddress(r1.address), '7', false],
      [encodeAddress(r2.address), '6', false],
      [encodeAddress(r3.address), '5', true],
    ],
  );
  await c.close();
});

test('oracle: the EMA follows the median block by block with truncation; the minting price applies haircut and confidence', async () => {
  const c = await chain({ reporters: addrs(r1, r2, r3), minReports: 1, maxAgeBlocks: '100', emaAlphaBps: 2500, haircutBps: 100, confidenceBps: 20_000 });
  await c.block([c.report(r1, 1_000_000n)]); // 1
  assert.deepEqual(getEma(c.app.state), { ema: 1_000_000n, height: 1n });
  await c.block([c.report(r1, 2_000_000n)]); // 2
  let ema = emaStep(1_000_000n, 2_000_000n, 2500n);
  assert.equal(ema, 1_250_000n);
  assert.equal(getEma(c.app.state)?.ema, ema);
  for (let i = 0; i < 5; i++) {
    await c.block();
    ema = emaStep(ema, 2_000_000n, 2500n);
    assert.equal(getEma(c.app.state)?.ema, ema, `block ${c.app.height}`);
  }
  // min(median 2,000,000, ema) with one report: confidence 0; haircut 1 %.
  assert.equal(mintingPrice(c.app.state, c.next), (ema * 9900n) / 10_000n);

  await c.block([c.report(r2, 1_900_000n), c.report(r3, 2_300_000n)]);
  ema = emaStep(ema, 2_000_000n, 2500n);
  // fresh 1.9M, 2.0M, 2.3M → median 2.0M, MAD (100k + 0 + 300k)/3 = 133,333
  const view = priceView(c.app.state, c.next) as { median: string; confidence: string; mintingPrice: string; ema: string };
  assert.equal(view.median, '2000000');
  assert.equal(view.confidence, '133333');
  assert.equal(view.ema, ema.toString());
  assert.equal(BigInt(view.mintingPrice), (ema * 9900n - 133_333n * 20_000n) / 10_000n);
  assert.equal(mintingPrice(c.app.state, c.next), BigInt(view.mintingPrice));
  await c.close();
});

test('oracle: the EMA restarts at the median after a gap longer than maxAgeBlocks', async () => {
  const c = await chain({ reporters: addrs(r1), minReports: 1, maxAgeBlocks: '2', emaAlphaBps: 1000, haircutBps: 0, confidenceBps: 0 });
  await c.block([c.report(r1, 1_000n)]); // 1
  await c.block([c.report(r1, 2_000n)]); // 2 → ema 1100
  assert.equal(getEma(c.app.state)?.ema, 1_100n);
  for (let i = 0; i < 4; i++) await c.block(); // 3..6, median gone after 4
  assert.equal(getEma(c.app.state)?.height, 4n);
  await c.block([c.report(r1, 5_000n)]); // 7: ema (height 4) is 3 blocks old > 2
  assert.deepEqual(getEma(c.app.state), { ema: 5_000n, height: 7n });
  await c.close();
});

test('oracle: bad reports are refused with their own error and change no oracle state', async () => {
  const c = await chain({ reporters: addrs(r1, r2), minReports: 1 });
  await c.block([c.report(r1, 420_000n)]);
  const before = priceView(c.app.state, c.next);
  const cases: Array<[string, Bytes, string, string]> = [
    ['not a reporter', c.report(mallory, 1n), 'oracle', 'NOT_REPORTER'],
    ['zero price', c.report(r2, 0n), 'oracle', 'INVALID_PRICE'],
  ];
  for (const [name, bytes, , kind] of cases) {
    const check = c.app.checkTx({ bytes });
    assert.equal(check.error, kind, name);
    assert.ok(check.log.length > 20, `${name}: ${check.log}`);
  }
  c.app.resetCheckState();
  const r = await c.block(cases.map(([, b]) => b));
  assert.deepEqual(
    r.txResults.map((x) => [x.codespace, x.error]),
    cases.map(([, , cs, k]) => [cs, k]),
  );
  assert.match(r.txResults[0]?.log ?? '', /not an oracle reporter/);
  assert.equal(getReport(c.app.state, mallory.address), undefined);
  assert.equal(getReport(c.app.state, r2.address), undefined);
  const after = priceView(c.app.state, c.next - 1n);
  assert.deepEqual(after.reports, before.reports);
  await c.close();
});

test('oracle: reports of a reporter no longer listed do not count (params from governance)', async () => {
  const c = await chain({ reporters: addrs(r1, r2), minReports: 1 });
  await c.block([c.report(r1, 7n), c.report(r2, 9n)]);
  assert.equal(medianPrice(c.app.state, c.next), 8n);
  // Governance (the only writer of params) drops r2, then everyone.
  const o = new Overlay(c.app.state);
  const p = getParams(o, 'oracle', oracleParams);
  setParams(o, 'oracle', oracleParams, { ...p, reporters: [r1.address] });
  assert.equal(medianPrice(o, c.next), 7n);
  setParams(o, 'oracle', oracleParams, { ...p, reporters: [] });
  assert.throws(() => mintingPrice(o, c.next), (e: unknown) => OracleErrors.NO_PRICE.is(e) && /not listed any oracle reporter/.test((e as Error).message));
  await c.close();
});

test('oracle: invalid parameters are refused at genesis with a message naming the field', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ reporters: addrs(r1, r1) }, /lists .* twice/],
    [{ reporters: addrs(r1), minReports: 2 }, /exceeds the number of reporters/],
    [{ minReports: 0 }, /minReports/],
    [{ maxAgeBlocks: '0' }, /maxAgeBlocks/],
    [{ emaAlphaBps: 0 }, /emaAlphaBps/],
    [{ emaAlphaBps: 10_001 }, /emaAlphaBps/],
    [{ haircutBps: 10_000 }, /haircutBps/],
  ];
  for (const [params, re] of bad) {
    assert.throws(() => parseGenesis(testGenesis({ app: { oracle: { params } } }), standardModules()), re, JSON.stringify(params));
  }
});
