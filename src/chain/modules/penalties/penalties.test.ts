import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../../core/bytes.js';
import { sha256 } from '../../../core/hash.js';
import { encodeAddress } from '../../../core/keys.js';
import { standardModules } from '../../index.js';
import { getSupply } from '../bank/keeper.js';
import { getDevice } from '../devices/keeper.js';
import { getProposal } from '../gov/keeper.js';
import { bondedTokensOf, getDelegation, getOperator, tokensOfShares } from '../staking/keeper.js';
import { encodeDoubleSignEvidence } from '../testvertical/types.js';
import { GW, alice, attrs, bob, carol, dev, penChain } from './harness.test.js';
import { SLASH_ESCROW, getFaultRecord, getSlash, listSlashes } from './keeper.js';
import { QUEUE_PREFIX } from './keys.js';

type Chain = Awaited<ReturnType<typeof penChain>>;

function query(c: Chain, name: string, args: Record<string, string> = {}): Record<string, unknown> {
  const q = standardModules().find((m) => m.name === 'penalties')?.queries?.[name];
  assert.ok(q, `query ${name}`);
  return q(c.app.state, args) as Record<string, unknown>;
}

function worth(c: Chain, delegator: { address: Uint8Array }, operator: { address: Uint8Array }): bigint {
  const op = getOperator(c.app.state, operator.address);
  const d = getDelegation(c.app.state, delegator.address, operator.address);
  return op && d ? tokensOfShares(op, d.shares) : 0n;
}

function queueLength(c: Chain): number {
  let n = 0;
  for (const _ of c.app.state.iterate(QUEUE_PREFIX, Buffer.from('penalties/r'))) n++;
  return n;
}

/** Two conflicting reports of `device` with one seq: double-sign evidence. */
function doubleSign(c: Chain, device: ReturnType<typeof dev>, seq = 7n): Uint8Array {
  return encodeDoubleSignEvidence(c.report(device, { seq, units: 100n }), c.report(device, { seq, units: 999n }));
}

test('operational faults: free faults only warn, then each fault is a small slash into escrow, then jail', async () => {
  const c = await penChain({ penalties: { freeFaults: 3, jailFaults: 5, faultSlash: String(GW), faultWindowBlocks: '1000' } });
  const d = dev(1);
  await c.delegate(alice, alice, 1000n * GW);
  await c.onboard(alice, d);
  const escrow0 = c.balance(SLASH_ESCROW);

  for (let i = 1; i <= 3; i++) {
    const r = await c.fault(d);
    const w = attrs(r.events.find((e) => e.type === 'penalties.warning'));
    assert.deepEqual(
      { device: w.device, owner: w.owner, reason: w.reason, count: w.count, freeLeft: w.freeLeft },
      { device: toHex(d.publicKey), owner: encodeAddress(alice.address), reason: 'missed-challenge', count: String(i), freeLeft: String(3 - i) },
    );
    assert.equal(getDevice(c.app.state, d.publicKey)?.status, 'warned');
    assert.ok(!r.events.some((e) => e.type === 'penalties.penalty' || e.type === 'staking.slash'), 'a warning takes nothing');
  }
  assert.equal(bondedTokensOf(c.app.state, alice.address), 1000n * GW, 'free faults cost no stake');
  assert.equal(listSlashes(c.app.state).length, 0);

  // Fault 4: beyond the free ones → 1 GW into escrow, with a slash record; device stays warned.
  let r = await c.fault(d, 'late-proof');
  const p = attrs(r.events.find((e) => e.type === 'penalties.penalty'));
  assert.equal(p.count, '4');
  assert.equal(p.slashed, String(GW));
  assert.equal(p.slashId, '1');
  assert.equal(bondedTokensOf(c.app.state, alice.address), 999n * GW);
  assert.equal(c.balance(SLASH_ESCROW), escrow0 + GW);
  const s = getSlash(c.app.state, 1n);
  assert.ok(s);
  assert.equal(s.kind, 'fault');
  assert.equal(s.reason, 'late-proof');
  assert.equal(s.amount, GW);
  assert.equal(s.status, 'pending');
  assert.equal(toHex(s.evidenceHash), toHex(sha256(s.evidence)), 'the evidence is kept with its hash');
  assert.equal(getDevice(c.app.state, d.publicKey)?.status, 'warned');

  // Fault 5 = jailFaults: another slash, and the device is jailed.
  r = await c.fault(d);
  assert.ok(r.events.some((e) => e.type === 'penalties.jail'));
  assert.equal(getDevice(c.app.state, d.publicKey)?.status, 'jailed');
  assert.equal(bondedTokensOf(c.app.state, alice.address), 998n * GW);
  assert.equal(c.balance(SLASH_ESCROW), escrow0 + 2n * GW);
  assert.deepEqual(listSlashes(c.app.state, { operator: alice.address }).map((x) => x.id), [1n, 2n]);

  // A jailed device is out of service: its faults are not counted.
  r = await c.fault(d);
  assert.equal(attrs(r.events.find((e) => e.type === 'penalties.fault_ignored')).status, 'jailed');
  assert.equal(getFaultRecord(c.app.state, d.publicKey)?.count, 5);
  const f = query(c, 'faults', { device: toHex(d.publicKey) });
  assert.equal(f.count, 5);
  assert.equal(f.total, '5');
  assert.equal(f.status, 'jailed');

  // An owner without operator stake: the penalty takes 0 and says so; no slash record.
  const d2 = dev(2);
  await c.onboard(carol, d2);
  for (let i = 0; i < 3; i++) await c.fault(d2);
  r = await c.fault(d2);
  const p2 = attrs(r.events.find((e) => e.type === 'penalties.penalty'));
  assert.equal(p2.slashed, '0');
  assert.match(p2.note as string, /no bonded operator stake/);
  assert.equal(p2.slashId, undefined);
  assert.equal(listSlashes(c.app.state).length, 2);
  await c.close();
});

test('fault windows roll over lazily: a warned device goes back to active and counting starts over', async () => {
  const c = await penChain({ penalties: { freeFaults: 3, jailFaults: 5, faultWindowBlocks: '5' } });
  const d = dev(3);
  await c.delegate(alice, alice, 100n * GW);
  await c.onboard(alice, d);
  await c.fault(d);
  const r2 = await c.fault(d);
  assert.equal(attrs(r2.events.find((e) => e.type === 'penalties.warning')).count, '2');
  const start = getFaultRecord(c.app.state, d.publicKey)!.windowStart;
  await c.until(start + 5n);
  // Nothing scanned the devices: the device is still warned until it is next seen...
  assert.equal(getDevice(c.app.state, d.publicKey)?.status, 'warned');
  assert.equal(query(c, 'faults', { device: toHex(d.publicKey) }).windowOver, true);
  // ...which a report does (the test vertical calls refreshDevice).
  const r = await c.ok(carol, 'testvertical/report', c.report(d, { seq: 1n }));
  assert.equal(attrs(r.events.find((e) => e.type === 'penalties.window_reset')).faults, '2');
  const st = attrs(r.events.find((e) => e.type === 'devices.status'));
  assert.deepEqual([st.from, st.to], ['warned', 'active']);
  assert.equal(getDevice(c.app.state, d.publicKey)?.status, 'active');
  assert.equal(attrs(r.events.find((e) => e.type === 'rewards.contribution')).weighted, '100', 'active again: full weight');
  // A new window: three more faults are free again (no penalty, no stake taken).
  for (let i = 1; i <= 3; i++) assert.equal(attrs((await c.fault(d)).events.find((e) => e.type === 'penalties.warning')).count, String(i));
  assert.equal(bondedTokensOf(c.app.state, alice.address), 100n * GW);
  // A fault after the window ended (no refresh in between) also opens a new window.
  await c.until(getFaultRecord(c.app.state, d.publicKey)!.windowStart + 5n);
  assert.equal(attrs((await c.fault(d)).events.find((e) => e.type === 'penalties.warning')).count, '1');
  assert.equal(getFaultRecord(c.app.state, d.publicKey)?.total, 6n);
  await c.close();
});

test('fraud: valid evidence slashes the pool pro rata into escrow and jails the device; a dispute extends the window; then the escrow burns', async () => {
  const c = await penChain({ penalties: { fraudSlashBps: '500', disputeBlocks: '20', disputeExtensionBlocks: '10' } });
  const d = dev(4);
  await c.delegate(alice, alice, 600n * GW);
  await c.delegate(bob, alice, 400n * GW);
  await c.onboard(alice, d);
  const supply0 = getSupply(c.app.state);
  const evidence = doubleSign(c, d);

  const r = await c.ok(carol, 'penalties/evidence', { kind: 'double-signed-report', evidence });
  const height = BigInt(c.app.height);
  // 5% of 1000 GW = 50 GW, shared 60/40 by alice and bob.
  assert.equal(bondedTokensOf(c.app.state, alice.address), 950n * GW);
  assert.equal(worth(c, alice, alice), 570n * GW);
  assert.equal(worth(c, bob, alice), 380n * GW);
  assert.equal(c.balance(SLASH_ESCROW), 50n * GW, 'the escrow holds the slashed tokens');
  assert.equal(getSupply(c.app.state), supply0, 'nothing burned yet');
  assert.equal(getDevice(c.app.state, d.publicKey)?.status, 'jailed');
  const ev = attrs(r.events.find((e) => e.type === 'penalties.slash'));
  assert.equal(ev.amount, String(50n * GW));
  const s = getSlash(c.app.state, 1n);
  assert.ok(s);
  assert.deepEqual(
    {
      operator: encodeAddress(s.operator),
      device: toHex(s.device),
      amount: s.amount,
      reason: s.reason,
      kind: s.kind,
      evidenceHash: toHex(s.evidenceHash),
      evidence: toHex(s.evidence),
      reporter: s.reporter && encodeAddress(s.reporter),
      height: s.height,
      releaseHeight: s.releaseHeight,
      status: s.status,
      counterEvidence: s.counterEvidence,
    },
    {
      operator: encodeAddress(alice.address),
      device: toHex(d.publicKey),
      amount: 50n * GW,
      reason: 'double-signed-report',
      kind: 'double-signed-report',
      evidenceHash: toHex(sha256(evidence)),
      evidence: toHex(evidence),
      reporter: encodeAddress(carol.address),
      height,
      releaseHeight: height + 20n,
      status: 'pending',
      counterEvidence: null,
    },
  );
  const shown = query(c, 'slash', { id: '1' });
  assert.equal(shown.status, 'pending');
  assert.equal(shown.operator, encodeAddress(alice.address));

  // The operator disputes: release moves 10 blocks later.
  const counter = new TextEncoder().encode('seq 7 was signed by a stolen key; see incident report');
  const dr = await c.ok(alice, 'penalties/dispute', { id: 1n, counterEvidence: counter, note: 'key stolen' });
  assert.equal(attrs(dr.events.find((e) => e.type === 'penalties.dispute')).releaseHeight, String(height + 30n));
  const disputed = getSlash(c.app.state, 1n)!;
  assert.equal(disputed.status, 'disputed');
  assert.equal(disputed.releaseHeight, height + 30n);
  assert.equal(toHex(disputed.counterEvidence!), toHex(counter));
  assert.equal(disputed.note, 'key stolen');

  // At the original release height nothing burns; at the extended one the escrow burns.
  await c.until(height + 29n);
  assert.equal(getSlash(c.app.state, 1n)?.status, 'disputed');
  assert.equal(getSupply(c.app.state), supply0);
  const end = await c.until(height + 30n);
  assert.equal(attrs(end.find((e) => e.type === 'penalties.burn')).amount, String(50n * GW));
  assert.equal(getSlash(c.app.state, 1n)?.status, 'burned');
  assert.equal(getSupply(c.app.state), supply0 - 50n * GW, 'supply drops by exactly the slashed amount');
  assert.equal(c.balance(SLASH_ESCROW), 0n);
  assert.equal(queueLength(c), 0);
  // A burned slash is final.
  await c.fails(alice, 'penalties/dispute', { id: 1n, counterEvidence: counter, note: '' }, 'penalties.DISPUTE_CLOSED', /burned/);
  await c.close();
});

test('governance reverses a slash: a slash-reverse proposal restores the pool and unjails the device', async () => {
  const c = await penChain({ penalties: { fraudSlashBps: '1000', disputeBlocks: '20', disputeExtensionBlocks: '10' }, gov: { votingPeriod: '3' } });
  const d = dev(5);
  await c.delegate(alice, alice, 600n * GW);
  await c.delegate(bob, alice, 400n * GW);
  await c.onboard(alice, d);
  const supply0 = getSupply(c.app.state);
  await c.ok(carol, 'penalties/evidence', { kind: 'double-signed-report', evidence: doubleSign(c, d) });
  assert.equal(bondedTokensOf(c.app.state, alice.address), 900n * GW);
  await c.ok(alice, 'penalties/dispute', { id: 1n, counterEvidence: Uint8Array.of(1, 2, 3), note: 'not me' });

  const id = await c.propose(alice, { type: 'slash-reverse', value: { id: 1n } }, [alice, bob]);
  const p = getProposal(c.app.state, id)!;
  assert.equal(p.status, 'passed', `${p.reason} ${p.error}`);
  const s = getSlash(c.app.state, 1n)!;
  assert.equal(s.status, 'reversed');
  assert.equal(s.restoredToAccount, false);
  assert.equal(bondedTokensOf(c.app.state, alice.address), 1000n * GW, 'the pool is whole again');
  assert.equal(worth(c, alice, alice), 600n * GW);
  assert.equal(worth(c, bob, alice), 400n * GW);
  assert.equal(c.balance(SLASH_ESCROW), 0n);
  assert.equal(getDevice(c.app.state, d.publicKey)?.status, 'active');
  assert.equal(queueLength(c), 0, 'dequeued: nothing burns at the release height');
  await c.until(s.releaseHeight + 1n);
  assert.equal(getSupply(c.app.state), supply0);
  assert.equal(getSlash(c.app.state, 1n)?.status, 'reversed');

  // A reversal of something final or unknown passes the vote but fails to execute, changing nothing.
  const bad = await c.propose(alice, { type: 'slash-reverse', value: { id: 1n } }, [alice, bob]);
  assert.equal(getProposal(c.app.state, bad)?.status, 'failed');
  assert.match(getProposal(c.app.state, bad)!.error, /NOT_REVERSIBLE.*already reversed/);
  const none = await c.propose(alice, { type: 'slash-reverse', value: { id: 99n } }, [alice, bob]);
  assert.match(getProposal(c.app.state, none)!.error, /SLASH_NOT_FOUND/);
  await c.close();
});

test('a reversal pays the operator account when its pool has no delegators left', async () => {
  const c = await penChain({ penalties: { fraudSlashBps: '1000', disputeBlocks: '40' }, gov: { votingPeriod: '3' } });
  const d = dev(6);
  await c.delegate(alice, alice, 100n * GW);
  await c.delegate(bob, bob, 100n * GW); // bob votes
  await c.onboard(alice, d);
  await c.ok(carol, 'penalties/evidence', { kind: 'double-signed-report', evidence: doubleSign(c, d) });
  await c.ok(alice, 'staking/undelegate', { operator: alice.address, amount: 90n * GW });
  assert.equal(getOperator(c.app.state, alice.address), undefined, 'the pool is gone');
  const before = c.balance(alice);
  const id = await c.propose(bob, { type: 'slash-reverse', value: { id: 1n } }, [bob]);
  assert.equal(getProposal(c.app.state, id)?.status, 'passed');
  const s = getSlash(c.app.state, 1n)!;
  assert.equal(s.status, 'reversed');
  assert.equal(s.restoredToAccount, true);
  assert.equal(c.balance(alice), before + 10n * GW);
  await c.close();
});

test('refused evidence and disputes: clear errors, state unchanged', async () => {
  const c = await penChain({ penalties: { disputeBlocks: '8', disputeExtensionBlocks: '5' } });
  const d = dev(7);
  const other = dev(8);
  await c.delegate(alice, alice, 100n * GW);
  await c.onboard(alice, d);
  await c.onboard(alice, other);
  const a = c.report(d, { seq: 3n, units: 1n });
  const b = c.report(d, { seq: 3n, units: 2n });
  const kind = 'double-signed-report';

  // Invalid evidence: the verifier's reason comes back.
  await c.fails(carol, 'penalties/evidence', { kind, evidence: encodeDoubleSignEvidence(a, { ...a }) }, 'penalties.INVALID_EVIDENCE', /same content/);
  const forged = { ...b, signature: Uint8Array.from(b.signature).fill(7, 0, 8) };
  await c.fails(carol, 'penalties/evidence', { kind, evidence: encodeDoubleSignEvidence(a, forged) }, 'penalties.INVALID_EVIDENCE', /second report's signature does not verify/);
  await c.fails(carol, 'penalties/evidence', { kind, evidence: encodeDoubleSignEvidence(a, c.report(other, { seq: 3n, units: 2n })) }, 'penalties.INVALID_EVIDENCE', /different devices/);
  await c.fails(carol, 'penalties/evidence', { kind, evidence: encodeDoubleSignEvidence(a, c.report(d, { seq: 4n, units: 2n })) }, 'penalties.INVALID_EVIDENCE', /different seqs/);
  await c.fails(carol, 'penalties/evidence', { kind, evidence: Uint8Array.of(1, 2, 3) }, 'penalties.INVALID_EVIDENCE', /does not decode/);
  await c.fails(carol, 'penalties/evidence', { kind: 'forged-proof', evidence: Uint8Array.of(1) }, 'penalties.UNKNOWN_EVIDENCE_KIND', /known kinds: double-signed-report/);
  // Signed for another chain: not evidence here.
  await c.fails(carol, 'penalties/evidence', { kind, evidence: encodeDoubleSignEvidence(c.report(d, { seq: 3n }, 'other-chain'), c.report(d, { seq: 3n, units: 5n }, 'other-chain')) }, 'penalties.INVALID_EVIDENCE', /signature does not verify/);

  // Valid once; the same bytes again, or the pair swapped (the same offence), are refused.
  await c.ok(carol, 'penalties/evidence', { kind, evidence: encodeDoubleSignEvidence(a, b) });
  const height = BigInt(c.app.height);
  await c.fails(bob, 'penalties/evidence', { kind, evidence: encodeDoubleSignEvidence(a, b) }, 'penalties.EVIDENCE_USED', /slash 1/);
  await c.fails(bob, 'penalties/evidence', { kind, evidence: encodeDoubleSignEvidence(b, a) }, 'penalties.OFFENCE_PUNISHED', /slash 1/);

  // Disputes: unknown id, not the operator, then too late; twice.
  const dispute = (id: bigint) => ({ id, counterEvidence: Uint8Array.of(9), note: 'n' });
  await c.fails(alice, 'penalties/dispute', dispute(42n), 'penalties.SLASH_NOT_FOUND');
  await c.fails(bob, 'penalties/dispute', dispute(1n), 'penalties.NOT_OPERATOR', new RegExp(encodeAddress(alice.address)));
  await c.fails(alice, 'penalties/dispute', { id: 1n, counterEvidence: new Uint8Array(0), note: '' }, 'penalties.INVALID_EVIDENCE', /counter-evidence/);
  await c.ok(alice, 'penalties/dispute', dispute(1n));
  await c.fails(alice, 'penalties/dispute', dispute(1n), 'penalties.ALREADY_DISPUTED');

  // A second slash, disputed too late (at its release height the window has closed).
  await c.ok(carol, 'penalties/evidence', { kind, evidence: doubleSign(c, other, 11n) });
  const s2 = getSlash(c.app.state, 2n)!;
  await c.until(s2.releaseHeight - 1n);
  // (The tx runs in block releaseHeight, whose end block then burns the slash: state changes there.)
  const late = await c.run(alice, 'penalties/dispute', dispute(2n));
  assert.equal(`${late.codespace}.${late.error}`, 'penalties.DISPUTE_CLOSED');
  assert.match(late.log, new RegExp(`window of slash 2 ended at height ${s2.releaseHeight - 1n}`));
  const burned = getSlash(c.app.state, 2n)!;
  assert.equal(burned.status, 'burned');
  assert.equal(burned.counterEvidence, null, 'the refused dispute left nothing');
  assert.equal(getSlash(c.app.state, 1n)?.releaseHeight, height + 8n + 5n);
  await c.close();
});

test('penalties params: jailFaults must exceed freeFaults, bps at most 100%', () => {
  const def = standardModules().find((m) => m.name === 'penalties')!.params!;
  const base = def.defaults as Record<string, unknown>;
  assert.throws(() => def.validate({ ...base, freeFaults: 3, jailFaults: 3 }), /jailFaults/);
  assert.throws(() => def.validate({ ...base, fraudSlashBps: 10_001n }), /fraudSlashBps/);
  assert.throws(() => def.validate({ ...base, faultWindowBlocks: 0n }), /faultWindowBlocks/);
  def.validate(base);
});
