import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, utf8, type Bytes } from '../../../core/bytes.js';
import { encodeAddress } from '../../../core/keys.js';
import { testKey } from '../../../testkit/index.js';
import type { App } from '../../app.js';
import { attr } from '../../events.js';
import { getParams } from '../../module.js';
import { authParams } from '../auth/index.js';
import { bankParams } from '../bank/index.js';
import { getAccount, getSupply } from '../bank/keeper.js';
import { FEE, GW, govChain, submittedId, validator } from './harness.test.js';
import { getProposal, getVote, GOV_ESCROW_ADDRESS, proposalsEndingAt, TREASURY_ADDRESS } from './keeper.js';
import { govParams, tallyOutcome, type GovParams, type Tally } from './types.js';

const alice = testKey('alice');
const bob = testKey('bob');
const carol = testKey('carol');
const dave = testKey('dave');

const START = 1_000n * GW;
const DEPOSIT = 100n * GW;
const everyone: Array<[typeof alice, bigint]> = [
  [alice, START],
  [bob, START],
  [carol, START],
  [dave, START],
];

function balance(app: App, a: { address: Bytes } | Bytes): bigint {
  return getAccount(app.state, a instanceof Uint8Array ? a : a.address).balance;
}

/** Every state entry except the accounts a tx's fee touches (signer, proposer's reward address). */
function snapshot(app: App, skip: Array<{ address: Bytes }>): Map<string, string> {
  const skipKeys = new Set(skip.map((k) => toHex(utf8('bank/acct/')) + toHex(k.address)));
  skipKeys.add(toHex(utf8('bank/acct/')) + toHex(validator.address));
  skipKeys.add(toHex(utf8('epochs/state'))); // an epoch may close while the txs run
  const out = new Map<string, string>();
  for (const [k, v] of app.state.iterate(Uint8Array.of(0), undefined)) {
    const kh = toHex(k);
    if (!skipKeys.has(kh)) out.set(kh, toHex(v));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The tally rule (pure)

const P: Pick<GovParams, 'quorumBps' | 'thresholdBps' | 'vetoBps' | 'burnDepositNoQuorum'> = {
  quorumBps: 3340n,
  thresholdBps: 5000n,
  vetoBps: 3340n,
  burnDepositNoQuorum: true,
};

test('tally: the rule, table-driven (quorum, veto, threshold boundaries, abstain)', () => {
  const t = (yes: bigint, no: bigint, abstain: bigint, veto: bigint, totalBonded = 1000n): Tally => ({ yes, no, abstain, veto, totalBonded });
  const cases: Array<[string, Tally, typeof P | undefined, string, boolean]> = [
    ['nobody voted', t(0n, 0n, 0n, 0n), undefined, 'quorum-not-met', true],
    ['no bonded stake at all', t(0n, 0n, 0n, 0n, 0n), undefined, 'quorum-not-met', true],
    ['quorum one short (333.9 < 334 of 1000)', t(333n, 0n, 0n, 0n), undefined, 'quorum-not-met', true],
    ['quorum exactly 33.4%', t(334n, 0n, 0n, 0n), undefined, 'passed', false],
    ['quorum missed, refund when configured', t(100n, 0n, 0n, 0n), { ...P, burnDepositNoQuorum: false }, 'quorum-not-met', false],
    ['abstain counts for quorum', t(1n, 0n, 333n, 0n), undefined, 'passed', false],
    ['only abstain: quorum met, nothing decisive', t(0n, 0n, 500n, 0n), undefined, 'threshold-not-met', false],
    ['threshold exactly 50%: not more than half', t(250n, 250n, 0n, 0n), undefined, 'threshold-not-met', false],
    ['threshold one above 50%', t(251n, 250n, 0n, 0n), undefined, 'passed', false],
    ['abstain does not dilute the threshold', t(300n, 299n, 400n, 0n), undefined, 'passed', false],
    ['veto exactly 33.4% of voted', t(666n, 0n, 0n, 334n), undefined, 'vetoed', true],
    ['veto just below 33.4%', t(667n, 0n, 0n, 333n), undefined, 'passed', false],
    ['veto counts against the threshold', t(400n, 0n, 0n, 399n, 800n), { ...P, vetoBps: 10_000n }, 'passed', false],
    ['veto as a no', t(400n, 0n, 0n, 400n, 800n), { ...P, vetoBps: 10_000n }, 'threshold-not-met', false],
    ['veto includes abstain in its denominator', t(400n, 0n, 267n, 333n), undefined, 'passed', false],
    ['huge amounts stay exact', t(10n ** 30n + 1n, 10n ** 30n, 0n, 0n, 3n * 10n ** 30n), undefined, 'passed', false],
  ];
  for (const [name, tally, params, reason, burn] of cases) {
    const o = tallyOutcome(tally, params ?? P);
    assert.equal(o.reason, reason, name);
    assert.equal(o.burnDeposit, burn, `${name}: burn`);
    assert.equal(o.passed, reason === 'passed', `${name}: passed`);
  }
});

test('params: defaults are the Cosmos ones and validation names the field', () => {
  const d = govParams.defaults;
  assert.equal(d.minDeposit, 100n * GW);
  assert.deepEqual([d.quorumBps, d.thresholdBps, d.vetoBps], [3340n, 5000n, 3340n]);
  govParams.validate(d);
  for (const [patch, field] of [
    [{ votingPeriod: 0n }, 'votingPeriod'],
    [{ minDeposit: 0n }, 'minDeposit'],
    [{ quorumBps: 0n }, 'quorumBps'],
    [{ quorumBps: 9001n }, 'quorumBps'],
    [{ thresholdBps: 4999n }, 'thresholdBps'],
    [{ thresholdBps: 10_000n }, 'thresholdBps'],
    [{ vetoBps: 10_001n }, 'vetoBps'],
  ] as const) {
    assert.throws(() => govParams.validate({ ...d, ...patch }), (e: Error) => e.message.includes(`gov.${field}`), field);
  }
});

// ---------------------------------------------------------------------------------------------
// Parameters change only through governance

test('gov: a passed params proposal changes bank.sendEnabled; a rejected one changes nothing', async () => {
  const c = await govChain({ balances: everyone });
  c.staking.set(alice, 600n);
  c.staking.set(bob, 400n);
  // Rejected first: bob votes no with more power than alice's yes.
  c.staking.set(bob, 700n);
  let r = await c.block([c.submit(alice, { type: 'params', value: { module: 'bank', changes: c.paramsBytes('bank', { sendEnabled: false }) } })]);
  const rejected = submittedId(r);
  await c.block([c.vote(alice, rejected, 'yes'), c.vote(bob, rejected, 'no')]);
  await c.until(Number(getProposal(c.app.state, rejected)!.votingEndHeight));
  assert.equal(getProposal(c.app.state, rejected)?.status, 'rejected');
  assert.equal(getProposal(c.app.state, rejected)?.reason, 'threshold-not-met');
  assert.equal(getParams(c.app.state, 'bank', bankParams).sendEnabled, true, 'a rejected proposal changes nothing');

  // Passed: bob now abstains.
  c.staking.set(bob, 400n);
  r = await c.block([c.submit(alice, { type: 'params', value: { module: 'bank', changes: c.paramsBytes('bank', { sendEnabled: false }) } })]);
  const id = submittedId(r);
  await c.block([c.vote(alice, id, 'yes'), c.vote(bob, id, 'abstain')]);
  assert.equal(getParams(c.app.state, 'bank', bankParams).sendEnabled, true, 'nothing changes before the tally');
  const end = getProposal(c.app.state, id)!.votingEndHeight;
  await c.until(Number(end) - 1);
  assert.equal(getParams(c.app.state, 'bank', bankParams).sendEnabled, true, 'nothing changes before the last block ends');
  const last = await c.block();
  const types = last.endEvents.map((e) => e.type);
  assert.ok(types.includes('gov.params') && types.includes('gov.execute') && types.includes('gov.tally'), types.join(','));
  assert.equal(getParams(c.app.state, 'bank', bankParams).sendEnabled, false, 'the param changed');
  const p = getProposal(c.app.state, id)!;
  assert.equal(p.status, 'passed');
  assert.deepEqual(p.tally, { yes: 600n, no: 0n, abstain: 400n, veto: 0n, totalBonded: 1000n });
  const send = await c.block([c.tx(alice, [{ type: 'bank/send', value: { to: bob.address, amount: 1n } }])]);
  assert.equal(send.txResults[0]?.error, 'SEND_DISABLED');
  await c.close();
});

test('gov: an auth.feeBase change applies from the next block on', async () => {
  const c = await govChain({ balances: everyone });
  c.staking.set(alice, 1n);
  const id = submittedId(await c.block([c.submit(alice, { type: 'params', value: { module: 'auth', changes: c.paramsBytes('auth', { feeBase: 5_000n }) } })]));
  await c.block([c.vote(alice, id, 'yes')]);
  await c.until(Number(getProposal(c.app.state, id)!.votingEndHeight));
  assert.equal(getParams(c.app.state, 'auth', authParams).feeBase, 5_000n);
  await c.close();
});

test('gov: a gov params proposal changes gov itself (voting period of later proposals)', async () => {
  const c = await govChain({ balances: everyone });
  c.staking.set(alice, 1n);
  const id = submittedId(await c.block([c.submit(alice, { type: 'params', value: { module: 'gov', changes: c.paramsBytes('gov', { votingPeriod: 7n }) } })]));
  await c.block([c.vote(alice, id, 'yes')]);
  await c.until(Number(getProposal(c.app.state, id)!.votingEndHeight));
  assert.equal(getParams(c.app.state, 'gov', govParams).votingPeriod, 7n);
  const r = await c.block([c.submit(alice, { type: 'text', value: null })]);
  const p = getProposal(c.app.state, submittedId(r))!;
  assert.equal(p.votingEndHeight - p.submitHeight, 7n);
  await c.close();
});

// ---------------------------------------------------------------------------------------------
// Voting

test('gov: tally outcomes through the chain, with deposits refunded or burned', async () => {
  const cases: Array<{ name: string; votes: Array<[typeof alice, bigint, 'yes' | 'no' | 'abstain' | 'veto']>; extra?: bigint; gov?: Record<string, unknown>; status: string; reason: string; burned: boolean }> = [
    { name: 'quorum not met (burned by default)', votes: [[alice, 100n, 'yes']], extra: 900n, status: 'rejected', reason: 'quorum-not-met', burned: true },
    { name: 'quorum not met, refund configured', votes: [[alice, 100n, 'yes']], extra: 900n, gov: { burnDepositNoQuorum: false }, status: 'rejected', reason: 'quorum-not-met', burned: false },
    { name: 'vetoed', votes: [[alice, 600n, 'yes'], [bob, 400n, 'veto']], status: 'rejected', reason: 'vetoed', burned: true },
    { name: 'exact half is not a majority', votes: [[alice, 500n, 'yes'], [bob, 500n, 'no']], status: 'rejected', reason: 'threshold-not-met', burned: false },
    { name: 'passed with abstain', votes: [[alice, 301n, 'yes'], [bob, 300n, 'no'], [carol, 399n, 'abstain']], status: 'passed', reason: 'executed', burned: false },
  ];
  for (const k of cases) {
    const c = await govChain({ balances: everyone, ...(k.gov ? { gov: k.gov } : {}) });
    for (const [key, power] of k.votes) c.staking.set(key, power);
    c.staking.extraBonded = k.extra ?? 0n;
    const supply = getSupply(c.app.state);
    const id = submittedId(await c.block([c.submit(dave, { type: 'text', value: null })]));
    assert.equal(balance(c.app, GOV_ESCROW_ADDRESS), DEPOSIT, `${k.name}: escrowed`);
    await c.block(k.votes.map(([key, , option]) => c.vote(key, id, option)));
    const ev = await c.until(Number(getProposal(c.app.state, id)!.votingEndHeight));
    const p = getProposal(c.app.state, id)!;
    assert.equal(p.status, k.status, k.name);
    assert.equal(p.reason, k.reason, k.name);
    assert.equal(p.depositState, k.burned ? 'burned' : 'refunded', k.name);
    assert.equal(balance(c.app, GOV_ESCROW_ADDRESS), 0n, `${k.name}: escrow emptied`);
    assert.equal(balance(c.app, dave), START - FEE - (k.burned ? DEPOSIT : 0n), `${k.name}: proposer's balance`);
    assert.equal(getSupply(c.app.state), supply - (k.burned ? DEPOSIT : 0n), `${k.name}: supply`);
    const dep = ev.find((e) => e.type === 'gov.deposit');
    assert.equal(dep && attr(dep, 'outcome'), k.burned ? 'burned' : 'refunded');
    await c.close();
  }
});

test('gov: re-voting replaces the vote, and weights are read at tally time', async () => {
  const c = await govChain({ balances: everyone });
  c.staking.set(alice, 100n);
  c.staking.set(bob, 100n);
  const id = submittedId(await c.block([c.submit(alice, { type: 'text', value: null })]));
  await c.block([c.vote(alice, id, 'no'), c.vote(bob, id, 'yes')]);
  await c.block([c.vote(alice, id, 'yes')]);
  assert.equal(getVote(c.app.state, id, alice.address)?.option, 'yes');
  c.staking.set(alice, 250n); // bonded more after voting: counts at the tally
  await c.until(Number(getProposal(c.app.state, id)!.votingEndHeight));
  const p = getProposal(c.app.state, id)!;
  assert.deepEqual(p.tally, { yes: 350n, no: 0n, abstain: 0n, veto: 0n, totalBonded: 350n });
  assert.equal(getVote(c.app.state, id, alice.address)?.weight, 250n, 'the counted weight is recorded');
  await c.close();
});

test('gov: proposals ending at the same height close together, and the end index is emptied', async () => {
  const c = await govChain({ balances: everyone });
  c.staking.set(alice, 1n);
  const r = await c.block([c.submit(alice, { type: 'text', value: null }), c.submit(bob, { type: 'text', value: null }), c.submit(carol, { type: 'text', value: null })]);
  const ids = [0, 1, 2].map((i) => submittedId(r, i));
  assert.deepEqual(ids, [1n, 2n, 3n]);
  const end = getProposal(c.app.state, 1n)!.votingEndHeight;
  assert.deepEqual(proposalsEndingAt(c.app.state, end), ids);
  await c.block([c.vote(alice, 2n, 'yes')]);
  await c.until(Number(end));
  assert.deepEqual(ids.map((id) => getProposal(c.app.state, id)?.status), ['rejected', 'passed', 'rejected']);
  assert.deepEqual(proposalsEndingAt(c.app.state, end), []);
  await c.close();
});

// ---------------------------------------------------------------------------------------------
// Each kind of content executes; failures apply nothing

async function pass(c: Awaited<ReturnType<typeof govChain>>, content: Parameters<typeof c.submit>[1]) {
  c.staking.set(alice, 1n);
  const id = submittedId(await c.block([c.submit(alice, content)]));
  await c.block([c.vote(alice, id, 'yes')]);
  const ev = await c.until(Number(getProposal(c.app.state, id)!.votingEndHeight));
  return { id, p: getProposal(c.app.state, id)!, ev };
}

test('gov: maker-approve, maker-revoke, slash-reverse and text execute', async () => {
  const c = await govChain({ balances: everyone });
  const pk = new Uint8Array(32).fill(7);
  let r = await pass(c, { type: 'maker-approve', value: { name: 'acme-radio', pubKey: pk } });
  assert.equal(r.p.status, 'passed');
  assert.equal(toHex(c.app.state.get(utf8('testdev/maker/acme-radio'))!), toHex(pk));
  assert.ok(r.ev.some((e) => e.type === 'testdev.approve'), 'events of the execution are kept');
  r = await pass(c, { type: 'maker-revoke', value: { name: 'acme-radio' } });
  assert.equal(r.p.status, 'passed');
  assert.equal(c.app.state.get(utf8('testdev/maker/acme-radio')), undefined);
  r = await pass(c, { type: 'slash-reverse', value: { id: 42n } });
  assert.equal(r.p.status, 'passed');
  assert.ok(c.app.state.get(utf8('testpen/reversed/42')));
  r = await pass(c, { type: 'text', value: null });
  assert.equal(r.p.status, 'passed');
  assert.equal(r.p.reason, 'executed');
  await c.close();
});

test('gov: a treasury spend pays out of the treasury only when passed', async () => {
  const c = await govChain({ balances: [...everyone, [TREASURY_ADDRESS, 50n * GW]] });
  const supply = getSupply(c.app.state);
  const { p, ev } = await pass(c, { type: 'treasury-spend', value: { to: carol.address, amount: 20n * GW } });
  assert.equal(p.status, 'passed');
  assert.equal(balance(c.app, TREASURY_ADDRESS), 30n * GW);
  assert.equal(balance(c.app, carol), START + 20n * GW);
  assert.equal(getSupply(c.app.state), supply, 'a spend moves tokens, it does not mint');
  assert.ok(ev.some((e) => e.type === 'gov.spend' && attr(e, 'amount') === String(20n * GW)));
  assert.deepEqual(c.query('treasury'), { address: encodeAddress(TREASURY_ADDRESS), balance: String(30n * GW) });
  await c.close();
});

test('gov: a passed proposal whose execution fails is marked failed and applies nothing', async () => {
  const c = await govChain({ balances: [...everyone, [TREASURY_ADDRESS, 5n * GW]] });
  // The treasury holds too little.
  let r = await pass(c, { type: 'treasury-spend', value: { to: carol.address, amount: 20n * GW } });
  assert.equal(r.p.status, 'failed');
  assert.equal(r.p.reason, 'execution-failed');
  assert.match(r.p.error, /INSUFFICIENT_TREASURY.*holds 5000000ugw/);
  assert.equal(r.p.depositState, 'refunded', 'the vote passed: the deposit comes back');
  assert.equal(balance(c.app, TREASURY_ADDRESS), 5n * GW);
  assert.equal(balance(c.app, carol), START);
  assert.ok(r.ev.some((e) => e.type === 'gov.failed'));
  assert.ok(!r.ev.some((e) => e.type === 'gov.execute'));

  // A failure after a partial write: the write is not applied, nor its events.
  r = await pass(c, { type: 'slash-reverse', value: { id: 7n } });
  assert.equal(r.p.status, 'failed');
  assert.match(r.p.error, /govtest\.NOT_REVERSIBLE: slash 7 is final/);
  assert.equal(c.app.state.get(utf8('testpen/reversed/7')), undefined, 'nothing of the execution remains');
  assert.ok(!r.ev.some((e) => e.type === 'testpen.reversed'));

  // Revoking a maker that does not exist.
  r = await pass(c, { type: 'maker-revoke', value: { name: 'nobody' } });
  assert.equal(r.p.status, 'failed');
  assert.match(r.p.error, /MAKER_NOT_FOUND/);
  await c.close();
});

test('gov: two params proposals for one module: each carries the full params, the later one wins', async () => {
  const c = await govChain({ balances: everyone });
  c.staking.set(alice, 1n);
  const a = c.paramsBytes('auth', { feeBase: 2_000n });
  const b = c.paramsBytes('auth', { feePerByte: 11n });
  const r = await c.block([c.submit(alice, { type: 'params', value: { module: 'auth', changes: a } }), c.submit(bob, { type: 'params', value: { module: 'auth', changes: b } })]);
  await c.block([c.vote(alice, submittedId(r, 0), 'yes'), c.vote(alice, submittedId(r, 1), 'yes')]);
  await c.until(Number(getProposal(c.app.state, 1n)!.votingEndHeight));
  const p = getParams(c.app.state, 'auth', authParams);
  assert.equal(p.feePerByte, 11n);
  assert.equal(p.feeBase, 1_000n, 'the later proposal reset feeBase to what it was when it was written');
  await c.close();
});

// ---------------------------------------------------------------------------------------------
// Bad input

test('gov: every bad input has its own error and leaves state unchanged', async () => {
  const c = await govChain({ balances: [...everyone, [testKey('poor').address, 50n * GW]], gov: { votingPeriod: '40' } });
  const poor = testKey('poor');
  c.staking.set(alice, 10n);
  // A closed proposal (1) and an open one (2).
  const closed = submittedId(await c.block([c.submit(alice, { type: 'text', value: null })]));
  await c.until(Number(getProposal(c.app.state, closed)!.votingEndHeight));
  const open = submittedId(await c.block([c.submit(alice, { type: 'text', value: null })]));
  const bankChanges = (v: Record<string, unknown>) => c.paramsBytes('bank', v);
  const cases: Array<[string, () => Bytes, string, RegExp]> = [
    ['unknown module', () => c.submit(bob, { type: 'params', value: { module: 'nosuch', changes: new Uint8Array(1) } }), 'UNKNOWN_MODULE', /modules with parameters: auth, bank, consensus, epochs, gov/],
    ['params that do not decode', () => c.submit(bob, { type: 'params', value: { module: 'bank', changes: Uint8Array.of(1, 2) } }), 'INVALID_PARAMS', /do not decode/],
    ['a bad param value', () => c.submit(bob, { type: 'params', value: { module: 'auth', changes: c.paramsBytes('auth', { maxMsgs: 0 }) } }), 'INVALID_PARAMS', /auth\.maxMsgs/],
    ['a bad gov param value', () => c.submit(bob, { type: 'params', value: { module: 'gov', changes: c.paramsBytes('gov', { thresholdBps: 100n }) } }), 'INVALID_PARAMS', /gov\.thresholdBps/],
    ['unchanged params', () => c.submit(bob, { type: 'params', value: { module: 'bank', changes: bankChanges({}) } }), 'PARAMS_UNCHANGED', /nothing would change/],
    ['insufficient deposit', () => c.submit(bob, { type: 'text', value: null }, 99n * GW), 'INSUFFICIENT_DEPOSIT', /100 GW/],
    ['zero deposit', () => c.submit(bob, { type: 'text', value: null }, 0n), 'INSUFFICIENT_DEPOSIT', /minDeposit/],
    ['deposit beyond the balance', () => c.submit(poor, { type: 'text', value: null }), 'INSUFFICIENT_FUNDS', /needs 100000000ugw/],
    ['zero treasury spend', () => c.submit(bob, { type: 'treasury-spend', value: { to: bob.address, amount: 0n } }), 'INVALID_AMOUNT', /more than zero/],
    ['bad maker name', () => c.submit(bob, { type: 'maker-approve', value: { name: 'Bad Name', pubKey: new Uint8Array(32) } }), 'INVALID_MAKER_NAME', /Bad Name/],
    ['empty title', () => c.submit(bob, { type: 'text', value: null }, DEPOSIT, ' '), 'INVALID_TITLE', /title/],
    ['vote on an unknown proposal', () => c.vote(alice, 99n, 'yes'), 'PROPOSAL_NOT_FOUND', /no proposal 99/],
    ['vote on a closed proposal', () => c.vote(alice, closed, 'yes'), 'VOTING_CLOSED', /rejected/],
    ['vote without bonded stake', () => c.vote(bob, open, 'yes'), 'NO_VOTING_POWER', /delegate first/],
  ];
  const signers = [alice, bob, poor];
  const before = snapshot(c.app, signers);
  for (const [name, make, kind, msg] of cases) {
    const tx = make();
    const check = c.app.checkTx({ bytes: tx });
    assert.equal(check.error, kind, `${name}: ${check.log}`);
    assert.match(check.log, msg, name);
    c.app.resetCheckState();
    const r = await c.block([tx]);
    assert.equal(r.txResults[0]?.error, kind, `${name} (in a block): ${r.txResults[0]?.log}`);
  }
  assert.deepEqual(snapshot(c.app, signers), before, 'rejected txs change nothing but fees and sequences');
  await c.close();
});

test('gov: maker and slash proposals are refused when their modules are not wired', async () => {
  const c = await govChain({ balances: everyone, devices: false, penalties: false });
  const r = await c.block([c.submit(alice, { type: 'maker-revoke', value: { name: 'acme' } }), c.submit(alice, { type: 'slash-reverse', value: { id: 1n } })]);
  assert.deepEqual(r.txResults.map((x) => x.error), ['NOT_SUPPORTED', 'NOT_SUPPORTED']);
  await c.close();
});

// ---------------------------------------------------------------------------------------------
// Queries

test('gov: queries list proposals, show one with its live tally, its votes and the treasury', async () => {
  const c = await govChain({ balances: [...everyone, [TREASURY_ADDRESS, 7n * GW]] });
  c.staking.set(alice, 300n);
  c.staking.set(bob, 100n);
  const id = submittedId(await c.block([c.submit(alice, { type: 'params', value: { module: 'bank', changes: c.paramsBytes('bank', { sendEnabled: false }) } }, DEPOSIT, 'Stop transfers')]));
  await c.block([c.vote(alice, id, 'yes'), c.vote(bob, id, 'veto')]);
  const list = c.query('proposals') as { proposals: Array<{ id: string; status: string; title: string; kind: string }>; height: string };
  assert.deepEqual(list.proposals.map((p) => [p.id, p.status, p.title, p.kind]), [['1', 'voting', 'Stop transfers', 'params']]);
  assert.equal(list.height, String(c.app.height));
  const v = c.query('proposal', { id: '1' }) as Record<string, unknown>;
  assert.deepEqual(v.tally, { yes: '300', no: '0', abstain: '0', veto: '100', totalBonded: '400' });
  assert.equal(v.tallyFinal, false);
  assert.equal(v.outcomeIfEndedNow, 'passed');
  assert.deepEqual(v.paramChanges, [{ key: 'bank.sendEnabled', from: true, to: false }]);
  assert.equal(v.blocksLeft, String(getProposal(c.app.state, id)!.votingEndHeight - BigInt(c.app.height)));
  const votes = c.query('votes', { id: '1' }) as { votes: Array<{ option: string; weight: string; final: boolean }> };
  assert.deepEqual(votes.votes.map((x) => [x.option, x.weight, x.final]).sort(), [['veto', '100', false], ['yes', '300', false]]);
  assert.deepEqual((c.query('treasury') as { balance: string }).balance, String(7n * GW));
  assert.deepEqual((c.query('escrow') as { balance: string }).balance, String(DEPOSIT));
  assert.throws(() => c.query('proposal', { id: '9' }), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
  assert.throws(() => c.query('proposal', { id: 'x' }), /id/);
  assert.throws(() => c.query('proposals', { status: 'odd' }), /status must be one of/);
  await c.until(Number(getProposal(c.app.state, id)!.votingEndHeight));
  const closed = c.query('proposal', { id: '1' }) as Record<string, unknown>;
  assert.equal(closed.status, 'passed');
  assert.equal(closed.tallyFinal, true);
  assert.equal(closed.blocksLeft, '0');
  assert.deepEqual((c.query('proposals', { status: 'voting' }) as { proposals: unknown[] }).proposals, []);
  await c.close();
});
