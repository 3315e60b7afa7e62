import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../../core/bytes.js';
import { sha256 } from '../../../core/hash.js';
import { encodeAddress } from '../../../core/keys.js';
import { currentEpoch } from '../epochs/index.js';
import { getDevice } from '../devices/keeper.js';
import { getContribution } from '../rewards/keeper.js';
import { CHAIN, alice, attrs, authority, bob, carol, dev, penChain } from '../penalties/harness.test.js';
import { lastSeqOf, reportHashOf, verifyDoubleSign } from './keeper.js';
import { decodeTestReport, encodeDoubleSignEvidence, encodeTestReport, reportSignBytes, signTestReport } from './types.js';

const COVERAGE = 2;

test('testvertical: a signed report credits the device owner through recordContribution', async () => {
  const c = await penChain();
  const d = dev(20);
  await c.onboard(alice, d);
  const rep = c.report(d, { seq: 1n, pool: 'coverage', units: 250n, reason: 'beacon' });
  // Anyone may submit it: the device's signature is what counts.
  const r = await c.ok(carol, 'testvertical/report', rep);
  const contrib = attrs(r.events.find((e) => e.type === 'rewards.contribution'));
  assert.deepEqual(
    { recipient: contrib.recipient, pool: contrib.pool, device: contrib.device, reason: contrib.reason, units: contrib.units, weighted: contrib.weighted },
    { recipient: encodeAddress(alice.address), pool: 'coverage', device: toHex(d.publicKey), reason: 'beacon', units: '250', weighted: '250' },
  );
  const epoch = currentEpoch(c.app.state);
  assert.deepEqual(getContribution(c.app.state, epoch, alice.address, COVERAGE, d.publicKey, 'beacon'), { units: 250n, weighted: 250n });
  assert.equal(getContribution(c.app.state, epoch, carol.address, COVERAGE, d.publicKey, 'beacon'), undefined, 'the submitter earns nothing');
  assert.equal(lastSeqOf(c.app.state, d.publicKey), 1n);
  assert.equal(toHex(reportHashOf(c.app.state, d.publicKey, 1n)!), toHex(sha256(reportSignBytes(CHAIN, rep))));
  assert.equal(attrs(r.events.find((e) => e.type === 'testvertical.report')).owner, encodeAddress(alice.address));

  // A later seq (gaps allowed) in another pool adds up.
  await c.ok(bob, 'testvertical/report', c.report(d, { seq: 5n, pool: 'storage', units: 10n, reason: 'beacon' }));
  assert.deepEqual(getContribution(c.app.state, epoch, alice.address, 0, d.publicKey, 'beacon'), { units: 10n, weighted: 10n });
  await c.close();
});

test('testvertical: bad signatures, replays, unknown and jailed devices are refused, state unchanged', async () => {
  const c = await penChain({ penalties: { freeFaults: 1, jailFaults: 2 } });
  const d = dev(21);
  await c.onboard(alice, d);
  await c.ok(carol, 'testvertical/report', c.report(d, { seq: 3n }));

  // Signature: by another key, over other content, for another chain.
  const byOther = { ...signTestReport(dev(22), CHAIN, { seq: 4n, pool: 'coverage', units: 100n, reason: 'test-work' }), device: d.publicKey };
  await c.fails(carol, 'testvertical/report', byOther, 'testvertical.BAD_SIGNATURE', /must sign/);
  await c.fails(carol, 'testvertical/report', { ...c.report(d, { seq: 4n, units: 1n }), units: 1000n }, 'testvertical.BAD_SIGNATURE');
  await c.fails(carol, 'testvertical/report', c.report(d, { seq: 4n }, 'other-chain'), 'testvertical.BAD_SIGNATURE', /other|test-chain/);
  // Replays: the same report again, or an older seq.
  await c.fails(carol, 'testvertical/report', c.report(d, { seq: 3n }), 'testvertical.REPLAYED', /seq above 3/);
  await c.fails(carol, 'testvertical/report', c.report(d, { seq: 2n }), 'testvertical.REPLAYED');
  // Unknown device; bad report fields.
  await c.fails(carol, 'testvertical/report', c.report(dev(23), { seq: 1n }), 'testvertical.UNKNOWN_DEVICE', /onboard/);
  await c.fails(carol, 'testvertical/report', c.report(d, { seq: 9n, units: 0n }), 'testvertical.INVALID_REPORT');
  await c.fails(carol, 'testvertical/report', c.report(d, { seq: 9n, reason: 'Not A Code' }), 'testvertical.INVALID_REPORT');

  // Faults: only the authority; a warned device earns at rewards' warned weight; a jailed one nothing.
  await c.fails(bob, 'testvertical/fault', { device: d.publicKey, reason: 'missed-challenge' }, 'testvertical.NOT_AUTHORITY', new RegExp(encodeAddress(authority.address)));
  await c.fault(d);
  assert.equal(getDevice(c.app.state, d.publicKey)?.status, 'warned');
  const r = await c.ok(carol, 'testvertical/report', c.report(d, { seq: 4n, units: 100n }));
  assert.equal(attrs(r.events.find((e) => e.type === 'rewards.contribution')).weighted, '50', 'warned: rewards.warnedMultiplierBps (50%)');
  await c.fault(d);
  assert.equal(getDevice(c.app.state, d.publicKey)?.status, 'jailed');
  await c.fails(carol, 'testvertical/report', c.report(d, { seq: 5n }), 'testvertical.DEVICE_NOT_ACTIVE', /jailed until height/);
  await c.close();
});

test('testvertical: without an authority, nobody reports faults', async () => {
  const c = await penChain({ authority: null });
  const d = dev(24);
  await c.onboard(alice, d);
  await c.fails(authority, 'testvertical/fault', { device: d.publicKey, reason: 'missed-challenge' }, 'testvertical.NOT_AUTHORITY', /not set/);
  await c.close();
});

test('double-signed-report verifier: verdicts and reasons', () => {
  const d = dev(30);
  const a = signTestReport(d, CHAIN, { seq: 7n, pool: 'compute', units: 5n, reason: 'job' });
  const b = signTestReport(d, CHAIN, { seq: 7n, pool: 'compute', units: 6n, reason: 'job' });
  const v = verifyDoubleSign(new Map() as never, encodeDoubleSignEvidence(a, b), CHAIN);
  assert.ok(typeof v !== 'string', String(v));
  assert.equal(toHex(v.device), toHex(d.publicKey));
  assert.equal(v.reason, 'double-signed-report');
  const swapped = verifyDoubleSign(new Map() as never, encodeDoubleSignEvidence(b, a), CHAIN);
  assert.ok(typeof swapped !== 'string');
  assert.equal(toHex(swapped.offence!), toHex(v.offence!), 'the offence does not depend on the order');
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['same content', encodeDoubleSignEvidence(a, a), /same content/],
    ['other chain', encodeDoubleSignEvidence(a, b), /does not verify/],
    ['different seq', encodeDoubleSignEvidence(a, signTestReport(d, CHAIN, { seq: 8n, pool: 'compute', units: 6n, reason: 'job' })), /different seqs/],
    ['trailing byte', Uint8Array.from([...encodeDoubleSignEvidence(a, b), 0]), /does not decode/],
  ];
  for (const [name, ev, re] of cases) {
    const out = verifyDoubleSign(new Map() as never, ev, name === 'other chain' ? 'other-chain' : CHAIN);
    assert.equal(typeof out, 'string', name);
    assert.match(out as string, re, name);
  }
  // The canonical encoding of a report round-trips.
  const back = decodeTestReport(encodeTestReport(a));
  assert.deepEqual({ ...back, device: toHex(back.device), signature: toHex(back.signature) }, { ...a, device: toHex(a.device), signature: toHex(a.signature) });
});
