/**
 * gov inside the standard app: real staking voting power, the real maker registry, params
 * proposals against every module.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex, type Bytes } from '../../../core/bytes.js';
import type { Ed25519Key } from '../../../core/keys.js';
import { Database } from '../../../state/db.js';
import { StateStore } from '../../../state/store.js';
import { tempDir, testGenesis, testKey } from '../../../testkit/index.js';
import { parseGenesis } from '../../genesis.js';
import { createApp, standardModules } from '../../index.js';
import { getParams } from '../../module.js';
import { buildTx, type DecodedMsg } from '../../tx.js';
import { bankParams } from '../bank/index.js';
import { getMaker } from '../devices/keeper.js';
import { totalBonded, votingPowerOf } from '../staking/keeper.js';
import { encode } from '../../../core/codec.js';
import { getProposal } from './keeper.js';

const validator = testKey('validator');
const alice = testKey('alice');
const bob = testKey('bob');
const GW = 1_000_000n;

test('standard app: stake-weighted votes pass a params and a maker proposal; only gov msgs set params', async () => {
  const dir = tempDir();
  const db = new Database(dir.path, { noSync: true });
  const app = createApp(new StateStore(db));
  await app.initChain(parseGenesis(testGenesis({ validator, balances: [[alice, 10_000n * GW], [bob, 10_000n * GW]], app: { gov: { params: { votingPeriod: '3' } } } }), standardModules()));
  const seq = new Map<string, bigint>();
  const tx = (from: Ed25519Key, msgs: DecodedMsg[]): Bytes => {
    const s = seq.get(toHex(from.address)) ?? 0n;
    seq.set(toHex(from.address), s + 1n);
    return buildTx(app, from, { chainId: 'test-chain', sequence: s, fee: 100_000n, msgs });
  };
  let time = 1_767_225_600_000n;
  const block = async (txs: Bytes[] = []) => {
    time += 1000n;
    const r = app.finalizeBlock({ chainId: 'test-chain', height: BigInt(app.height + 1), time, proposer: validator.publicKey }, txs.map((bytes) => ({ bytes })));
    await app.commit();
    app.resetCheckState();
    for (const t of r.txResults) assert.equal(t.code, 0, `${t.codespace}.${t.error}: ${t.log}`);
    return r;
  };
  // Only gov's messages can reach setParams: no other module has a message that changes params.
  const msgTypes = standardModules().flatMap((m) => (m.msgs ?? []).map((h) => h.type));
  assert.ok(msgTypes.includes('gov/submit'));

  await block([tx(alice, [{ type: 'staking/delegate', value: { operator: alice.address, amount: 600n * GW } }]), tx(bob, [{ type: 'staking/delegate', value: { operator: alice.address, amount: 400n * GW } }])]);
  assert.equal(votingPowerOf(app.state, alice.address), 600n * GW);
  assert.equal(totalBonded(app.state), 1000n * GW);

  const bankDef = standardModules().find((m) => m.name === 'bank')!.params!;
  const changes = encode(bankDef.codec, { ...getParams(app.state, 'bank', bankParams), sendEnabled: false });
  const pk = new Uint8Array(32).fill(9);
  await block([
    tx(alice, [{ type: 'gov/submit', value: { title: 'Stop transfers', description: '', content: { type: 'params', value: { module: 'bank', changes } }, deposit: 100n * GW } }]),
    tx(bob, [{ type: 'gov/submit', value: { title: 'Approve acme', description: '', content: { type: 'maker-approve', value: { name: 'acme', pubKey: pk } }, deposit: 100n * GW } }]),
  ]);
  // Proposal 1: alice yes (600), bob no (400) → passes. Proposal 2: bob yes, alice veto (60%) → vetoed.
  await block([
    tx(alice, [{ type: 'gov/vote', value: { id: 1n, option: 'yes' } }, { type: 'gov/vote', value: { id: 2n, option: 'veto' } }]),
    tx(bob, [{ type: 'gov/vote', value: { id: 1n, option: 'no' } }, { type: 'gov/vote', value: { id: 2n, option: 'yes' } }]),
  ]);
  while (BigInt(app.height) < getProposal(app.state, 1n)!.votingEndHeight) await block();
  assert.equal(getProposal(app.state, 1n)?.status, 'passed');
  assert.deepEqual(getProposal(app.state, 1n)?.tally, { yes: 600n * GW, no: 400n * GW, abstain: 0n, veto: 0n, totalBonded: 1000n * GW });
  assert.equal(getParams(app.state, 'bank', bankParams).sendEnabled, false);
  assert.equal(getProposal(app.state, 2n)?.reason, 'vetoed');
  assert.equal(getMaker(app.state, 'acme'), undefined);

  // Approve the maker now (alice proposes, both vote yes).
  await block([tx(alice, [{ type: 'gov/submit', value: { title: 'Approve acme', description: '', content: { type: 'maker-approve', value: { name: 'acme', pubKey: pk } }, deposit: 100n * GW } }])]);
  await block([tx(alice, [{ type: 'gov/vote', value: { id: 3n, option: 'yes' } }])]);
  while (BigInt(app.height) < getProposal(app.state, 3n)!.votingEndHeight) await block();
  assert.equal(getProposal(app.state, 3n)?.status, 'passed');
  assert.equal(toHex(getMaker(app.state, 'acme')!.pubKey), toHex(pk));
  await db.close();
  dir.cleanup();
});

test('parameters change only through governance: setParams is called by genesis and gov alone', () => {
  // dist/src/chain/modules/gov/ → the repository root; the check reads the TypeScript sources.
  const root = fileURLToPath(new URL('../../../../../', import.meta.url));
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) files.push(p);
    }
  };
  walk(join(root, 'src'));
  assert.ok(files.length > 20, 'sources found');
  const callers = files.filter((f) => /\bsetParams\(/.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f)).sort();
  assert.deepEqual(callers, ['src/chain/app.ts', 'src/chain/modules/gov/keeper.ts'], 'callers of setParams (its definition in module.ts aside)');
  const writers = files.filter((f) => /\.set\(\s*paramsKey\(/.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
  assert.deepEqual(writers, ['src/chain/module.ts'], 'the params key is written only by setParams');
  // In app.ts, setParams runs in initChain (genesis) only.
  const app = readFileSync(join(root, 'src/chain/app.ts'), 'utf8');
  const at = app.indexOf('setParams(overlay');
  assert.ok(at > app.indexOf('async initChain(') && at < app.indexOf('decode(bytes: Bytes)'), 'app.ts calls setParams only at genesis');
});
