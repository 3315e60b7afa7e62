import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { toHex, type Bytes } from '../../../core/bytes.js';
import { decode } from '../../../core/codec.js';
import { ChainError, InvalidInputError } from '../../../core/errors.js';
import { Ed25519Key, encodeAddress } from '../../../core/keys.js';
import { Database } from '../../../state/db.js';
import { Overlay, type KVReader } from '../../../state/overlay.js';
import { StateStore } from '../../../state/store.js';
import { tempDir, testKey } from '../../../testkit/index.js';
import { App, type BlockResult } from '../../app.js';
import { Context } from '../../context.js';
import { parseGenesis } from '../../genesis.js';
import { standardModules } from '../../index.js';
import { prefixEnd } from '../../keys.js';
import { setParams, type Module } from '../../module.js';
import { buildTx, type DecodedMsg } from '../../tx.js';
import { getValidators, validatorCodec, type Validator } from '../../validators.js';
import { BANK_ACCOUNT_PREFIX } from '../../keys.js';
import { accountCodec, getAccount, setAccount } from '../bank/keeper.js';
import { isEd25519Point } from './ed25519.js';
import { StakingErrors } from './errors.js';
import { genesisValidators, stakingModule, stakingParams, type StakingParams } from './index.js';
import {
  BONDED_POOL,
  UNBONDING_POOL,
  bondedTokensOf,
  computeValidatorSet,
  delegationCodec,
  getDelegation,
  getOperator,
  isJailed,
  iterateDelegations,
  jail,
  operatorCodec,
  restore,
  selfBondOf,
  slash,
  totalBonded,
  unbondingCodec,
  votingPowerOf,
} from './keeper.js';
import { DELEGATION_PREFIX, OPERATOR_PREFIX, UNBONDING_PREFIX } from './keys.js';

const GW = 1_000_000n;
const FEE = 10_000n;
const v0 = testKey('staking/v0');
const alice = testKey('staking/alice');
const bob = testKey('staking/bob');
const carol = testKey('staking/carol');
const aliceCons = testKey('staking/alice-consensus');
const bobCons = testKey('staking/bob-consensus');
const sink = testKey('staking/sink').address;

/** Runs keeper calls (jail, slash...) inside real blocks: queued, executed in this module's endBlock. */
function hookModule(): Module & { queue: Array<(ctx: Context) => void> } {
  const queue: Array<(ctx: Context) => void> = [];
  return {
    name: 'testhook',
    queue,
    beginBlock(ctx) {
      for (const f of queue.splice(0)) f(ctx);
    },
  };
}

interface ChainOpts {
  balances?: Array<[Ed25519Key, bigint]>;
  params?: Partial<Record<keyof StakingParams, string | number>>;
  v0Bond?: bigint;
}

function stakingGenesis(o: ChainOpts): Record<string, unknown> {
  const bond = o.v0Bond ?? 10n * GW;
  const operators = [{ address: encodeAddress(v0.address), pubKey: toHex(v0.publicKey), moniker: 'v0', selfBond: bond.toString() }];
  const p = { ...stakingParams.defaults };
  const vals = genesisValidators(
    operators.map((x) => ({ address: v0.address, pubKey: v0.publicKey, moniker: x.moniker, selfBond: bond })),
    o.params ? (stakingParams.codec.fromJSON({ ...(stakingParams.codec.toJSON(p) as Record<string, unknown>), ...o.params }) as StakingParams) : p,
  );
  return {
    chainId: 'test-chain',
    genesisTime: '2026-01-01T00:00:00Z',
    validators: vals.map((v) => ({ name: v.name, pubKey: toHex(v.pubKey), power: v.power.toString(), rewardAddress: encodeAddress(v.rewardAddress) })),
    app: {
      bank: { balances: [[v0, bond + GW] as [Ed25519Key, bigint], ...(o.balances ?? [])].map(([k, a]) => ({ address: encodeAddress(k.address), amount: a.toString() })) },
      staking: { ...(o.params ? { params: o.params } : {}), operators },
    },
  };
}

async function chain(o: ChainOpts = {}) {
  const dir = tempDir();
  const db = new Database(dir.path, { noSync: true });
  const hooks = hookModule();
  const modules = [...standardModules(), hooks];
  const app = new App(new StateStore(db), modules);
  await app.initChain(parseGenesis(stakingGenesis(o), modules));
  let time = 1_767_225_600_000n;
  const seq = new Map<string, bigint>();
  return {
    app,
    hooks,
    tx(from: Ed25519Key, msgs: DecodedMsg[]): Bytes {
      const k = toHex(from.address);
      const s = seq.get(k) ?? 0n;
      seq.set(k, s + 1n);
      return buildTx(app, from, { chainId: 'test-chain', sequence: s, fee: FEE, msgs });
    },
    delegate(from: Ed25519Key, operator: Bytes, amount: bigint) {
      return this.tx(from, [{ type: 'staking/delegate', value: { operator, amount } }]);
    },
    undelegate(from: Ed25519Key, operator: Bytes, amount: bigint) {
      return this.tx(from, [{ type: 'staking/undelegate', value: { operator, amount } }]);
    },
    setValidator(from: Ed25519Key, key: Bytes, moniker = '') {
      return this.tx(from, [{ type: 'staking/set-validator', value: { pubKey: key, moniker } }]);
    },
    async block(txs: Bytes[] = []): Promise<BlockResult> {
      time += 1000n;
      const r = app.finalizeBlock({ chainId: 'test-chain', height: BigInt(app.height + 1), time, proposer: v0.publicKey }, txs.map((bytes) => ({ bytes })));
      await app.commit();
      app.resetCheckState();
      return r;
    },
    async close() {
      await db.close();
      dir.cleanup();
    },
  };
}

function ok(r: BlockResult, i = 0): void {
  const t = r.txResults[i];
  assert.equal(t?.code, 0, `tx ${i}: ${t?.codespace}.${t?.error} ${t?.log}`);
}

function failed(r: BlockResult, kind: string, i = 0): void {
  const t = r.txResults[i];
  assert.equal(t?.error, kind, `tx ${i}: expected ${kind}, got ${t?.codespace}.${t?.error} ${t?.log}`);
  assert.ok((t?.log.length ?? 0) > 10, 'the error says what is wrong');
}

const valJSON = (v: Validator) => validatorCodec.toJSON(v);

function balance(store: KVReader, a: Bytes): bigint {
  return getAccount(store, a).balance;
}

test('staking genesis: self-bonds move into the bonded pool and the genesis set is the computed one', async () => {
  const c = await chain();
  const s = c.app.state;
  assert.equal(balance(s, BONDED_POOL), 10n * GW);
  assert.equal(balance(s, v0.address), GW);
  assert.equal(totalBonded(s), 10n * GW);
  assert.equal(selfBondOf(s, v0.address), 10n * GW);
  assert.deepEqual(getValidators(s).map((v) => [v.name, v.power]), [['v0', 10n]]);
  assert.deepEqual(computeValidatorSet(s).map(valJSON), getValidators(s).map(valJSON));
  // No change at the end of a block: the set is not rewritten.
  const r = await c.block();
  assert.equal(r.validators, undefined);
  await c.close();
});

test('staking genesis: clear errors for a wrong validator set, a missing balance, duplicates, bad keys', async () => {
  const modules = standardModules();
  const dir = tempDir();
  const db = new Database(dir.path, { noSync: true });
  try {
    const g = stakingGenesis({});
    (g.validators as Array<{ power: string }>)[0]!.power = '7';
    const app = new App(new StateStore(db), modules);
    await assert.rejects(app.initChain(parseGenesis(g, modules)), (e: unknown) => e instanceof InvalidInputError && /must be the set computed from app.staking.operators.*power 10/.test(e.message));
  } finally {
    await db.close();
    dir.cleanup();
  }
  const dir2 = tempDir();
  const db2 = new Database(dir2.path, { noSync: true });
  try {
    const g = stakingGenesis({});
    ((g.app as Record<string, { balances: Array<{ amount: string }> }>).bank!.balances[0] as { amount: string }).amount = '5';
    const app = new App(new StateStore(db2), modules);
    await assert.rejects(app.initChain(parseGenesis(g, modules)), /self-bonds 10000000ugw but has 5ugw in app.bank.balances/);
  } finally {
    await db2.close();
    dir2.cleanup();
  }
  const withOps = (ops: unknown[]) => {
    const g = stakingGenesis({});
    (g.app as Record<string, { operators: unknown[] }>).staking!.operators = ops;
    return () => parseGenesis(g, modules);
  };
  const op = { address: encodeAddress(alice.address), pubKey: toHex(aliceCons.publicKey), moniker: 'a', selfBond: '5' };
  assert.throws(withOps([op, op]), /operators\[1\]: duplicate operator/);
  assert.throws(withOps([op, { ...op, address: encodeAddress(bob.address) }]), /operators\[1\]\.pubKey: consensus key .* is used by another operator/);
  assert.throws(withOps([{ ...op, selfBond: '0' }]), /selfBond: must be greater than zero/);
  assert.throws(withOps([{ ...op, pubKey: 'ff'.repeat(32) }]), /is not an Ed25519 public key/);
  assert.throws(withOps([{ ...op, extra: 1 }]), /unknown field "extra"/);
});

test('staking: self-bond creates an operator; a declared key with enough stake joins the set at the end of the block', async () => {
  const c = await chain({ balances: [[alice, 100n * GW]] });
  let r = await c.block([c.delegate(alice, alice.address, 5n * GW)]);
  ok(r);
  assert.equal(bondedTokensOf(c.app.state, alice.address), 5n * GW);
  assert.equal(r.validators, undefined, 'no consensus key yet: not a validator');
  r = await c.block([c.setValidator(alice, aliceCons.publicKey, 'alice')]);
  ok(r);
  assert.deepEqual(
    r.validators?.map((v) => [v.name, toHex(v.pubKey), v.power, encodeAddress(v.rewardAddress)]),
    [
      ['v0', toHex(v0.publicKey), 10n, encodeAddress(v0.address)],
      ['alice', toHex(aliceCons.publicKey), 5n, encodeAddress(alice.address)],
    ],
  );
  assert.ok(r.endEvents.some((e) => e.type === 'staking.validator_set'));
  assert.deepEqual(getValidators(c.app.state).map(valJSON), r.validators?.map(valJSON));
  // More stake than v0: alice moves to the top.
  r = await c.block([c.delegate(alice, alice.address, 10n * GW)]);
  assert.deepEqual(r.validators?.map((v) => [v.name, v.power]), [
    ['alice', 15n],
    ['v0', 10n],
  ]);
  // A new key replaces the old one in the set.
  const newKey = Ed25519Key.generate().publicKey;
  r = await c.block([c.setValidator(alice, newKey, 'alice2')]);
  ok(r);
  assert.deepEqual(r.validators?.map((v) => [v.name, toHex(v.pubKey)]), [
    ['alice2', toHex(newKey)],
    ['v0', toHex(v0.publicKey)],
  ]);
  await c.close();
});

test('staking: bad input is refused with its own error and changes nothing', async () => {
  const c = await chain({ balances: [[alice, 100n * GW], [bob, 100n * GW]] });
  ok(await c.block([c.delegate(alice, alice.address, 5n * GW)]));
  ok(await c.block([c.setValidator(alice, aliceCons.publicKey, 'alice')]));
  const cases: Array<[string, Bytes, string]> = [
    ['zero amount', c.delegate(bob, alice.address, 0n), 'INVALID_AMOUNT'],
    ['unknown operator', c.delegate(bob, carol.address, GW), 'UNKNOWN_OPERATOR'],
    ['more than the balance', c.delegate(bob, alice.address, 1000n * GW), 'INSUFFICIENT_FUNDS'],
    ['undelegate zero', c.undelegate(alice, alice.address, 0n), 'INVALID_AMOUNT'],
    ['undelegate more than delegated', c.undelegate(alice, alice.address, 5n * GW + 1n), 'INSUFFICIENT_DELEGATION'],
    ['undelegate without a delegation', c.undelegate(bob, alice.address, 1n), 'INSUFFICIENT_DELEGATION'],
    ['undelegate from an unknown operator', c.undelegate(bob, carol.address, 1n), 'UNKNOWN_OPERATOR'],
    ['set-validator before a self-bond', c.setValidator(bob, bobCons.publicKey), 'UNKNOWN_OPERATOR'],
    ['unjail while not jailed', c.tx(alice, [{ type: 'staking/unjail', value: {} }]), 'NOT_JAILED'],
  ];
  const opKey = Buffer.concat([OPERATOR_PREFIX, alice.address]);
  const before = toHex(c.app.state.get(opKey) ?? new Uint8Array(0));
  // Admission refuses each of them too (one at a time, at the sender's committed sequence).
  for (const [name, tx, kind] of cases) {
    const d = c.app.decode(tx);
    const signer = toHex(d.signerAddress) === toHex(bob.address) ? bob : alice;
    const fresh = buildTx(c.app, signer, {
      chainId: 'test-chain',
      sequence: getAccount(c.app.state, d.signerAddress).sequence,
      fee: FEE,
      msgs: d.msgs,
    });
    const check = c.app.checkTx({ bytes: fresh });
    assert.equal(check.error, kind, `${name} (checkTx): ${check.log}`);
    c.app.resetCheckState();
  }
  const r = await c.block(cases.map(([, tx]) => tx));
  cases.forEach(([name, , kind], i) => {
    failed(r, kind, i);
    assert.ok(r.txResults[i], name);
  });
  assert.equal(toHex(c.app.state.get(opKey) ?? new Uint8Array(0)), before);
  // A consensus key another operator declared.
  ok(await c.block([c.delegate(bob, bob.address, GW)]));
  const r2 = await c.block([c.setValidator(bob, aliceCons.publicKey), c.setValidator(bob, Uint8Array.from(Buffer.alloc(32, 0xff)))]);
  failed(r2, 'KEY_IN_USE', 0);
  failed(r2, 'INVALID_PUBKEY', 1);
  failed(await c.block([c.setValidator(bob, bobCons.publicKey, 'bad\nname')]), 'INVALID_MONIKER');
  await c.close();
});

test('staking: undelegation leaves the set at once and pays out after unbondingBlocks, from the unbonding pool', async () => {
  const c = await chain({ balances: [[alice, 100n * GW]], params: { unbondingBlocks: '3' } });
  ok(await c.block([c.delegate(alice, alice.address, 5n * GW), c.setValidator(alice, aliceCons.publicKey, 'alice')]));
  assert.equal(getValidators(c.app.state).length, 2);
  const start = balance(c.app.state, alice.address);
  const r = await c.block([c.undelegate(alice, alice.address, 4n * GW + 500_000n)]);
  ok(r);
  const h = BigInt(r.height);
  assert.equal(r.validators?.length, 1, 'below minValidatorBond (1 GW): out of the set');
  assert.equal(balance(c.app.state, UNBONDING_POOL), 4n * GW + 500_000n);
  assert.equal(balance(c.app.state, BONDED_POOL), 10n * GW + 500_000n);
  const ev = r.txResults[0]?.events.find((e) => e.type === 'staking.undelegate');
  assert.equal(ev?.attributes.find((a) => a.key === 'completionHeight')?.value, String(h + 3n));
  assert.equal(balance(c.app.state, alice.address), start - FEE);
  await c.block();
  const r2 = await c.block();
  assert.equal(BigInt(r2.height), h + 2n);
  assert.equal(balance(c.app.state, alice.address), start - FEE, 'not before the completion height');
  const r3 = await c.block();
  assert.equal(BigInt(r3.height), h + 3n);
  assert.ok(r3.endEvents.some((e) => e.type === 'staking.unbonding_complete'));
  assert.equal(balance(c.app.state, alice.address), start - FEE + 4n * GW + 500_000n);
  assert.equal(balance(c.app.state, UNBONDING_POOL), 0n);
  assert.equal(c.app.state.get(UNBONDING_PREFIX) ?? null, null);
  assert.equal([...c.app.state.iterate(UNBONDING_PREFIX, prefixEnd(Buffer.from('staking/ubdby/')))].length, 0, 'queue and index emptied');
  // Undelegating the rest removes the operator record (and frees its consensus key).
  ok(await c.block([c.undelegate(alice, alice.address, 500_000n)]));
  assert.equal(getOperator(c.app.state, alice.address), undefined);
  await c.close();
});

test('staking: slash takes from every delegator pro rata (rounding toward zero, dust stays in the pool); restore reverses it', async () => {
  const c = await chain({ balances: [[alice, 100n * GW], [bob, 100n * GW]] });
  ok(await c.block([c.delegate(alice, alice.address, 600n), c.delegate(bob, alice.address, 400n)]));
  assert.equal(getDelegation(c.app.state, bob.address, alice.address)?.shares, 400n);
  let took = -1n;
  c.hooks.queue.push((ctx) => {
    took = slash(ctx, alice.address, 100n, sink);
  });
  await c.block();
  assert.equal(took, 100n);
  const s = c.app.state;
  assert.equal(bondedTokensOf(s, alice.address), 900n);
  assert.equal(selfBondOf(s, alice.address), 540n);
  assert.equal(votingPowerOf(s, bob.address), 360n);
  assert.equal(balance(s, sink), 100n);
  assert.equal(balance(s, BONDED_POOL), totalBonded(s));
  // A delegation after the slash buys shares at the new rate: floor(9 × 1000 / 900) = 10.
  ok(await c.block([c.delegate(bob, alice.address, 9n)]));
  assert.equal(getDelegation(c.app.state, bob.address, alice.address)?.shares, 410n);
  assert.equal(votingPowerOf(c.app.state, bob.address), 369n);
  // restore puts the tokens back into the pool, for every delegator pro rata (909 + 100 over
  // 1010 shares: alice's 600 shares are worth floor(600 × 1009 / 1010) = 599).
  c.hooks.queue.push((ctx) => restore(ctx, alice.address, 100n, sink));
  await c.block();
  assert.equal(selfBondOf(c.app.state, alice.address), 599n);
  assert.equal(votingPowerOf(c.app.state, bob.address), 409n);
  assert.equal(bondedTokensOf(c.app.state, alice.address), 1009n);
  assert.equal(balance(c.app.state, sink), 0n);
  assert.equal(balance(c.app.state, BONDED_POOL), totalBonded(c.app.state));
  await c.close();
});

test('staking: share rounding is toward zero and in the pool\'s favour', () => {
  const t = memChain();
  const pool = (k: Ed25519Key) => [getOperator(t.store, k.address)?.tokens, getOperator(t.store, k.address)?.shares];
  t.run(alice, 'delegate', { operator: alice.address, amount: 3n });
  t.run(bob, 'delegate', { operator: alice.address, amount: 3n });
  assert.equal(slash(t.ctx(), alice.address, 1n, sink), 1n); // 5 tokens, 6 shares
  // carol delegates 2: floor(2 × 6 / 5) = 2 shares, worth floor(2 × 7 / 8) = 1: her dust goes to alice and bob.
  t.run(carol, 'delegate', { operator: alice.address, amount: 2n });
  assert.equal(getDelegation(t.store, carol.address, alice.address)?.shares, 2n);
  assert.deepEqual(pool(alice), [7n, 8n]);
  assert.deepEqual([selfBondOf(t.store, alice.address), votingPowerOf(t.store, bob.address), votingPowerOf(t.store, carol.address)], [2n, 2n, 1n]);
  // bob undelegates all he is worth (2): all 3 shares burn, he is paid floor(3 × 7 / 8) = 2.
  t.run(bob, 'undelegate', { operator: alice.address, amount: 2n });
  assert.equal(getDelegation(t.store, bob.address, alice.address), undefined);
  assert.deepEqual(pool(alice), [5n, 5n]);
  assert.throws(() => t.run(bob, 'undelegate', { operator: alice.address, amount: 1n }), (e: unknown) => StakingErrors.INSUFFICIENT_DELEGATION.is(e));
  // The last ones out take everything: no tokens are stranded in a pool without shares.
  t.run(carol, 'undelegate', { operator: alice.address, amount: 2n });
  t.run(alice, 'undelegate', { operator: alice.address, amount: 3n });
  assert.equal(getOperator(t.store, alice.address), undefined, 'an operator nobody delegates to leaves no record');
  assert.equal(balance(t.store, BONDED_POOL), 0n);

  // Amounts too small for one share (a pool worth more tokens than shares).
  t.run(bob, 'delegate', { operator: bob.address, amount: 10n });
  restore(t.ctx(), bob.address, 10n, v0.address); // 20 tokens, 10 shares
  assert.equal(selfBondOf(t.store, bob.address), 20n);
  assert.throws(() => t.run(bob, 'undelegate', { operator: bob.address, amount: 1n }), (e: unknown) => StakingErrors.AMOUNT_TOO_SMALL.is(e));
  assert.throws(() => t.run(carol, 'delegate', { operator: bob.address, amount: 1n }), (e: unknown) => StakingErrors.AMOUNT_TOO_SMALL.is(e));
  // A pool slashed to zero takes no delegations until restored.
  assert.equal(slash(t.ctx(), bob.address, 50n, sink), 20n, 'takes at most what the pool has');
  assert.throws(() => t.run(carol, 'delegate', { operator: bob.address, amount: 5n }), (e: unknown) => StakingErrors.POOL_EMPTY.is(e));
  assert.throws(() => t.run(bob, 'undelegate', { operator: bob.address, amount: 1n }), (e: unknown) => StakingErrors.INSUFFICIENT_DELEGATION.is(e));
  restore(t.ctx(), bob.address, 20n, sink);
  assert.equal(selfBondOf(t.store, bob.address), 20n);
  assert.throws(() => restore(t.ctx(), carol.address, 1n, sink), (e: unknown) => StakingErrors.NO_DELEGATORS.is(e));
  assert.throws(() => restore(t.ctx(), bob.address, 0n, sink), (e: unknown) => StakingErrors.INVALID_AMOUNT.is(e));
  assert.equal(slash(t.ctx(), carol.address, 5n, sink), 0n, 'unknown operator: nothing taken');
  assert.equal(slash(t.ctx(), bob.address, 0n, sink), 0n);
});

test('staking: jail removes from the set; unjail only after jailedUntil', async () => {
  const c = await chain({ balances: [[alice, 100n * GW]] });
  ok(await c.block([c.delegate(alice, alice.address, 5n * GW), c.setValidator(alice, aliceCons.publicKey, 'alice')]));
  const h = BigInt(c.app.height);
  c.hooks.queue.push((ctx) => jail(ctx, alice.address, h + 3n, 'test'));
  let r = await c.block();
  assert.ok(isJailed(c.app.state, alice.address));
  assert.deepEqual(r.validators?.map((v) => v.name), ['v0']);
  assert.ok(r.beginEvents.some((e) => e.type === 'staking.jail'));
  const unjail = () => c.tx(alice, [{ type: 'staking/unjail', value: {} }]);
  r = await c.block([unjail()]); // height h + 2
  failed(r, 'STILL_JAILED');
  // A shorter jail does not shorten the current one.
  c.hooks.queue.push((ctx) => jail(ctx, alice.address, h + 1n, 'again'));
  r = await c.block([unjail()]); // h + 3
  ok(r);
  assert.ok(!isJailed(c.app.state, alice.address));
  assert.deepEqual(r.validators?.map((v) => v.name), ['v0', 'alice']);
  await c.close();
});

test('validator set: top maxValidators by tokens then pubkey, min bond, jailed and keyless excluded, never empty', async () => {
  const c = await chain({ balances: [[alice, 100n * GW], [bob, 100n * GW], [carol, 100n * GW]], params: { maxValidators: 2 } });
  const carolCons = testKey('staking/carol-consensus');
  const r = await c.block([
    c.delegate(alice, alice.address, 10n * GW),
    c.setValidator(alice, aliceCons.publicKey, 'alice'),
    c.delegate(bob, bob.address, 10n * GW),
    c.setValidator(bob, bobCons.publicKey, 'bob'),
    c.delegate(carol, carol.address, 500_000n),
    c.setValidator(carol, carolCons.publicKey, 'carol'),
  ]);
  r.txResults.forEach((_, i) => ok(r, i));
  // Three at 10 GW, two seats: the two lowest public keys win; carol is below minValidatorBond.
  const tied = [
    [v0.publicKey, 'v0'],
    [aliceCons.publicKey, 'alice'],
    [bobCons.publicKey, 'bob'],
  ].sort((a, b) => Buffer.compare(a[0] as Bytes, b[0] as Bytes)) as Array<[Bytes, string]>;
  assert.deepEqual(r.validators?.map((v) => v.name), tied.slice(0, 2).map(([, n]) => n));
  // Power is tokens / powerReduction rounded down.
  const r2 = await c.block([c.delegate(carol, carol.address, 20n * GW)]);
  assert.deepEqual(r2.validators?.[0]?.name, 'carol');
  assert.equal(r2.validators?.[0]?.power, 20n, '20.5 GW → power 20');
  await c.close();

  // Everyone leaves: the old set is kept (with one event saying why), never an empty one.
  const d = await chain({ balances: [] });
  const out = await d.block([d.undelegate(v0, v0.address, 10n * GW)]);
  ok(out);
  assert.equal(out.validators, undefined);
  assert.deepEqual(getValidators(d.app.state).map((v) => v.name), ['v0']);
  const kept = out.endEvents.filter((e) => e.type === 'staking.validator_set_kept');
  assert.equal(kept.length, 1);
  assert.match(kept[0]?.attributes.find((a) => a.key === 'reason')?.value ?? '', /no operator qualifies/);
  const next = await d.block();
  assert.equal(next.endEvents.filter((e) => e.type === 'staking.validator_set_kept').length, 0, 'said once');
  await d.close();
});

test('module queries: operators, operator, delegations, unbonding, validators, pool', async () => {
  const c = await chain({ balances: [[alice, 100n * GW], [bob, 100n * GW]] });
  ok(await c.block([c.delegate(alice, alice.address, 5n * GW), c.setValidator(alice, aliceCons.publicKey, 'alice'), c.delegate(bob, alice.address, 2n * GW)]));
  ok(await c.block([c.undelegate(bob, alice.address, GW)]));
  const q = stakingModule.queries!;
  const s = c.app.state;
  const ops = q.operators!(s, {}) as { operators: Array<{ address: string; tokens: string; selfBond: string; power: string }>; next: string | null };
  assert.equal(ops.operators.length, 2);
  const a = ops.operators.find((o) => o.address === encodeAddress(alice.address));
  assert.deepEqual([a?.tokens, a?.selfBond, a?.power], [String(6n * GW), String(5n * GW), '6']);
  const page = q.operators!(s, { limit: '1' }) as { operators: unknown[]; next: string };
  assert.equal(page.operators.length, 1);
  const page2 = q.operators!(s, { limit: '1', after: page.next }) as { operators: Array<{ address: string }>; next: string | null };
  assert.equal(page2.operators.length, 1);
  assert.notEqual(page2.operators[0]?.address, page.next);
  assert.throws(() => q.operator!(s, { address: encodeAddress(carol.address) }), (e: unknown) => e instanceof InvalidInputError && e.code === 'NOT_FOUND');
  assert.throws(() => q.operator!(s, {}), /required/);
  assert.throws(() => q.operators!(s, { limit: '0' }), /limit/);
  const d = q.delegations!(s, { delegator: encodeAddress(bob.address) }) as { delegations: Array<{ tokens: string }>; unbonding: Array<{ amount: string; completionHeight: string }> };
  assert.deepEqual(d.delegations.map((x) => x.tokens), [String(GW)]);
  assert.deepEqual(d.unbonding.map((x) => x.amount), [String(GW)]);
  assert.deepEqual((q.unbonding!(s, { delegator: encodeAddress(bob.address) }) as { unbonding: unknown[] }).unbonding, d.unbonding);
  assert.equal((q.delegation!(s, { delegator: encodeAddress(bob.address), operator: encodeAddress(alice.address) }) as { tokens: string }).tokens, String(GW));
  const pool = q.pool!(s, {}) as { totalBonded: string; bondedPool: { balance: string }; unbondingPool: { balance: string } };
  assert.deepEqual([pool.totalBonded, pool.bondedPool.balance, pool.unbondingPool.balance], [String(16n * GW), String(16n * GW), String(GW)]);
  const vals = q.validators!(s, {}) as { managed: boolean; current: unknown[]; computed: unknown[] };
  assert.equal(vals.managed, true);
  assert.deepEqual(vals.current, vals.computed);
  await c.close();
});

test('a genesis without staking operators keeps its validators: stake does not take the set over', async () => {
  const modules = standardModules();
  const dir = tempDir();
  const db = new Database(dir.path, { noSync: true });
  const app = new App(new StateStore(db), modules);
  const g = stakingGenesis({ balances: [[alice, 100n * GW]] });
  (g.app as Record<string, unknown>).staking = {};
  g.validators = [{ name: 'v0', pubKey: toHex(v0.publicKey), power: '1', rewardAddress: encodeAddress(v0.address) }];
  await app.initChain(parseGenesis(g, modules));
  const tx = (msgs: DecodedMsg[], s: bigint) => buildTx(app, alice, { chainId: 'test-chain', sequence: s, fee: FEE, msgs });
  const r = app.finalizeBlock({ chainId: 'test-chain', height: 1n, time: 1n, proposer: v0.publicKey }, [
    { bytes: tx([{ type: 'staking/delegate', value: { operator: alice.address, amount: 50n * GW } }], 0n) },
    { bytes: tx([{ type: 'staking/set-validator', value: { pubKey: aliceCons.publicKey, moniker: 'a' } }], 1n) },
  ]);
  await app.commit();
  assert.equal(r.txResults[1]?.code, 0, r.txResults[1]?.log);
  assert.equal(r.validators, undefined);
  assert.deepEqual(getValidators(app.state).map((v) => v.name), ['v0']);
  await db.close();
  dir.cleanup();
});

test('ed25519 point check: real keys pass, non-points and y >= p fail', () => {
  for (let i = 0; i < 50; i++) assert.ok(isEd25519Point(Ed25519Key.generate().publicKey));
  assert.ok(!isEd25519Point(Uint8Array.from(Buffer.alloc(32, 0xff))), 'y >= p');
  assert.ok(!isEd25519Point(new Uint8Array(31)));
  // About half of all y values have no x on the curve.
  let bad = 0;
  for (let i = 0; i < 200; i++) if (!isEd25519Point(testKey(`p${i}`).seed)) bad++;
  assert.ok(bad > 50 && bad < 150, `${bad} of 200 random strings are not points`);
});

// ---- an in-memory chain for fast property tests (keeper and handlers, no LMDB) -----------------

const emptyStore: KVReader = {
  get: () => undefined,
  *iterate() {},
};

function memChain(p: Partial<StakingParams> = {}) {
  const store = new Overlay(emptyStore);
  setParams(store, 'staking', stakingParams, { ...stakingParams.defaults, unbondingBlocks: 2n, minValidatorBond: 10n, powerReduction: 10n, ...p });
  let height = 1n;
  const handlers = new Map(stakingModule.msgs!.map((h) => [h.type, h]));
  const ctxAt = (sender?: Bytes) => new Context({ chainId: 'test-chain', height, time: height * 1000n, proposer: v0.publicKey }, store, sender);
  const t = {
    store,
    get height() {
      return height;
    },
    ctx: () => ctxAt(),
    fund(k: Ed25519Key, amount: bigint) {
      setAccount(store, k.address, { sequence: 0n, balance: amount });
    },
    /** Runs a message atomically (like a tx): all of it or nothing. */
    run(from: Ed25519Key, type: string, value: Record<string, unknown>) {
      const h = handlers.get(`staking/${type}`);
      const cp = store.checkpoint();
      try {
        h!.handle(ctxAt(from.address), value);
        store.release(cp);
      } catch (e) {
        store.revert(cp);
        throw e;
      }
    },
    endBlock() {
      stakingModule.endBlock!(ctxAt());
      height++;
    },
  };
  for (const k of [alice, bob, carol, v0]) t.fund(k, 1_000_000n);
  return t;
}

function sumPrefix<T>(store: KVReader, prefix: Bytes, f: (k: Bytes, v: Bytes) => T, add: (a: T, b: T) => T, zero: T): T {
  let acc = zero;
  for (const [k, v] of store.iterate(prefix, prefixEnd(prefix))) acc = add(acc, f(k, v));
  return acc;
}

test('property: bonded pool balance == sum of pool tokens == totalBonded; shares conserved; nothing negative; supply unchanged', () => {
  const keys = [alice, bob, carol, v0];
  const cons = [aliceCons, bobCons, testKey('c3'), testKey('c4')];
  const action = fc.oneof(
    fc.record({ t: fc.constant('delegate' as const), who: fc.nat(3), to: fc.nat(3), amount: fc.bigInt(0n, 300_000n) }),
    fc.record({ t: fc.constant('undelegate' as const), who: fc.nat(3), to: fc.nat(3), amount: fc.bigInt(0n, 300_000n) }),
    fc.record({ t: fc.constant('setkey' as const), who: fc.nat(3), key: fc.nat(3) }),
    fc.record({ t: fc.constant('slash' as const), to: fc.nat(3), amount: fc.bigInt(0n, 100_000n) }),
    fc.record({ t: fc.constant('restore' as const), to: fc.nat(3), amount: fc.bigInt(0n, 50_000n) }),
    fc.record({ t: fc.constant('jail' as const), to: fc.nat(3), blocks: fc.bigInt(0n, 3n) }),
    fc.record({ t: fc.constant('unjail' as const), who: fc.nat(3) }),
    fc.record({ t: fc.constant('end' as const) }),
  );
  fc.assert(
    fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
      const t = memChain();
      const supplyOf = () => sumPrefix(t.store, BANK_ACCOUNT_PREFIX, (_k, v) => decode(accountCodec, v).balance, (a, b) => a + b, 0n);
      const supply = supplyOf();
      for (const a of actions) {
        try {
          if (a.t === 'delegate') t.run(keys[a.who]!, 'delegate', { operator: keys[a.to]!.address, amount: a.amount });
          else if (a.t === 'undelegate') t.run(keys[a.who]!, 'undelegate', { operator: keys[a.to]!.address, amount: a.amount });
          else if (a.t === 'setkey') t.run(keys[a.who]!, 'set-validator', { pubKey: cons[a.key]!.publicKey, moniker: `m${a.who}` });
          else if (a.t === 'slash') slash(t.ctx(), keys[a.to]!.address, a.amount, sink);
          else if (a.t === 'restore') {
            const cp = t.store.checkpoint();
            try {
              restore(t.ctx(), keys[a.to]!.address, a.amount, sink);
              t.store.release(cp);
            } catch (e) {
              t.store.revert(cp);
              throw e;
            }
          } else if (a.t === 'jail') jail(t.ctx(), keys[a.to]!.address, t.height + a.blocks, 'prop');
          else if (a.t === 'unjail') t.run(keys[a.who]!, 'unjail', {});
          else t.endBlock();
        } catch (e) {
          if (!(e instanceof ChainError)) throw e; // only chain errors a user can cause
        }
        const s = t.store;
        const opTokens = sumPrefix(s, OPERATOR_PREFIX, (_k, v) => decode(operatorCodec, v).tokens, (x, y) => x + y, 0n);
        assert.equal(balance(s, BONDED_POOL), opTokens, 'bonded pool == sum of pool tokens');
        assert.equal(totalBonded(s), opTokens, 'totalBonded == sum of pool tokens');
        const unbonding = sumPrefix(s, UNBONDING_PREFIX, (_k, v) => decode(unbondingCodec, v).amount, (x, y) => x + y, 0n);
        assert.equal(balance(s, UNBONDING_POOL), unbonding, 'unbonding pool == sum of entries');
        // Shares: each operator's shares == the sum of its delegations' shares.
        const byOp = new Map<string, bigint>();
        for (const [k, v] of s.iterate(DELEGATION_PREFIX, prefixEnd(DELEGATION_PREFIX))) {
          const op = toHex(k.subarray(DELEGATION_PREFIX.length + 20));
          const sh = decode(delegationCodec, v).shares;
          assert.ok(sh > 0n, 'no empty delegation records');
          byOp.set(op, (byOp.get(op) ?? 0n) + sh);
        }
        for (const [k, v] of s.iterate(OPERATOR_PREFIX, prefixEnd(OPERATOR_PREFIX))) {
          const op = decode(operatorCodec, v);
          assert.equal(byOp.get(toHex(k.subarray(OPERATOR_PREFIX.length))) ?? 0n, op.shares, 'shares conserved');
          assert.ok(op.tokens >= 0n && op.shares >= 0n);
          if (op.shares === 0n) assert.equal(op.tokens, 0n, 'no tokens without shares');
          byOp.delete(toHex(k.subarray(OPERATOR_PREFIX.length)));
        }
        assert.equal(byOp.size, 0, 'no delegation to a missing operator');
        let worth = 0n;
        for (const d of iterateDelegations(s)) worth += d.tokens;
        assert.ok(worth <= opTokens, 'delegations are worth at most the pools (rounding toward zero)');
        assert.equal(supplyOf(), supply, 'staking never changes the supply');
        const set: Validator[] = computeValidatorSet(s);
        for (const v of set) assert.ok(v.power > 0n && !isJailed(s, v.rewardAddress));
      }
    }),
    { numRuns: 150 },
  );
});
