/**
 * Penalties and the test vertical through the real CLI and a real node (the README
 * walk-through): the faucet (testvertical.authority in a devnet genesis) bonds operator stake
 * and onboards a device; the device reports work (and signs a conflicting report), faults
 * warn, the double-sign evidence slashes into escrow, the operator disputes; errors read well.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAddress } from '../src/core/keys.js';
import { createClient } from '../src/client/client.js';
import { Keyring } from '../src/client/keyring.js';
import { signAndSend } from '../src/client/actions/signAndSend.js';
import { homePaths } from '../src/node/home.js';
import { cli, cliIn, startNode, tempDir } from '../src/testkit/index.js';

test('penalties CLI: report, fault warnings, double-sign evidence, slash, dispute', { timeout: 240_000 }, async () => {
  const dir = tempDir('gw-pen-');
  const home = dir.path;
  let node = undefined as Awaited<ReturnType<typeof startNode>> | undefined;
  const { run, json } = cliIn(home);
  try {
    const init = await json(['init', '--chain-id', 'pen-e2e', '--block-time', '200']);
    const faucet = init.faucetAddress as string;
    await run(['keys', 'add', 'bob', '--keyring-backend', 'test']);
    const acme = (await json(['keys', 'add', 'acme', '--keyring-backend', 'test'])).publicKey as string;
    const gPath = join(home, 'genesis.json');
    const g = JSON.parse(readFileSync(gPath, 'utf8')) as { app: Record<string, { params?: Record<string, unknown> }> };
    assert.equal(g.app.testvertical?.params?.authority, faucet, 'devnet genesis: the faucet is testvertical.authority');
    g.app.devices = { makers: [{ name: 'acme', pubKey: acme }], params: { onboardFeeDc: { storage: '0', compute: '0', hotspot: '0', sensor: '0' } } } as never;
    writeFileSync(gPath, JSON.stringify(g, null, 2));
    node = await startNode(home);
    const n = ['--node', node.url];
    await run([...n, 'bank', 'send', 'faucet', 'bob', '10gw']);

    // The faucet becomes an operator (self-bond 1000 GW) and onboards a device.
    const client = createClient({ url: node.url, genesis: new Uint8Array(readFileSync(gPath)) });
    const signer = new Keyring(homePaths(home).keyring).signer('faucet');
    await signAndSend(client, { signer, msgs: [{ type: 'staking/delegate', value: { operator: decodeAddress(faucet), amount: 1000n * 1_000_000n } }] });
    const keyFile = join(home, 'device.json');
    const id = (await json(['device', 'keygen', 'd1', '--out', keyFile])).publicKey as string;
    const sig = (await run(['maker', 'sign', 'acme', id, '--kind', 'hotspot'])).stdout.trim();
    await run([...n, 'device', 'onboard', 'faucet', '--device-key', keyFile, '--maker', 'acme', '--maker-signature', sig, '--kind', 'hotspot', '--bandwidth', '100']);

    // A report, signed by the device, submitted by bob: the owner (faucet) is credited.
    const evFile = join(home, 'double-sign.hex');
    const rep = await json([...n, 'testvertical', 'report', 'bob', '--device-key', keyFile, '--seq', '1', '--pool', 'coverage', '--units', '40', '--reason', 'beacon', '--double-sign', evFile]);
    assert.equal(rep.owner, faucet);
    assert.equal(rep.weighted, '40');
    assert.match(readFileSync(evFile, 'utf8'), /^[0-9a-f]+\n$/);
    const replay = await run([...n, 'testvertical', 'report', 'bob', '--device-key', keyFile, '--seq', '1', '--pool', 'coverage', '--units', '40'], false);
    assert.match(replay.stderr, /replay/);
    const badPool = await run([...n, 'testvertical', 'report', 'bob', '--device-key', keyFile, '--seq', '2', '--pool', 'stakers', '--units', '1'], false);
    assert.match(badPool.stderr, /--pool must be one of storage, compute, coverage/);

    // Faults: a warning from the authority; refused from anyone else.
    const f = await json([...n, 'testvertical', 'fault', 'faucet', id, '--reason', 'missed-challenge']);
    assert.equal(f.action, 'warning');
    assert.equal(f.count, 1);
    const notAuth = await run([...n, 'testvertical', 'fault', 'bob', id], false);
    assert.match(notAuth.stderr, /only testvertical\.authority/);
    const faults = await json([...n, 'penalties', 'faults', id]);
    assert.equal(faults.status, 'warned');
    assert.equal(faults.freeLeft, 2);
    // The device key alone (no --device-key): the owner's key in this keyring pays; warned → half weight.
    const own = await json([...n, 'testvertical', 'report', keyFile, '--seq', '2', '--pool', 'coverage', '--units', '40']);
    assert.equal(own.sender, faucet);
    assert.equal(own.weighted, '20');
    assert.match(String(own.epoch), /^[0-9]+$/);

    // Fraud evidence: 5% of the faucet's 1000 GW pool into escrow; the device is jailed.
    const ev = await json([...n, 'penalties', 'evidence', 'bob', '--kind', 'double-signed-report', '--file', evFile]);
    assert.equal(ev.slashId, '1');
    assert.equal(ev.amount, String(50n * 1_000_000n));
    const again = await run([...n, 'penalties', 'evidence', 'bob', '--kind', 'double-signed-report', '--file', evFile], false);
    assert.match(again.stderr, /already used for slash 1/);
    const unknownKind = await run([...n, 'penalties', 'evidence', 'bob', '--kind', 'forged-proof', '--file', evFile], false);
    assert.match(unknownKind.stderr, /known kinds: double-signed-report/);
    const list = await json([...n, 'penalties', 'list', '--operator', 'faucet']);
    assert.equal((list.slashes as unknown[]).length, 1);
    const shown = await json([...n, 'penalties', 'show', '1']);
    assert.equal(shown.status, 'pending');
    assert.equal(shown.verified, true);
    assert.equal(shown.device, id);
    const escrow = await json([...n, 'penalties', 'escrow']);
    assert.equal(escrow.balance, String(50n * 1_000_000n));
    assert.deepEqual(escrow.evidenceKinds, ['double-signed-report']);
    const jailed = await run([...n, 'testvertical', 'report', 'bob', '--device-key', keyFile, '--seq', '3', '--pool', 'coverage', '--units', '1'], false);
    assert.match(jailed.stderr, /jailed until height/);

    // The operator disputes; bob cannot.
    const counter = join(home, 'counter.txt');
    writeFileSync(counter, 'the device key leaked on 2026-01-01; see the attached report\n');
    const notOp = await run([...n, 'penalties', 'dispute', 'bob', '1', '--counter-evidence', 'not me'], false);
    assert.match(notOp.stderr, /only that operator can dispute it/);
    const d = await json([...n, 'penalties', 'dispute', 'faucet', '1', '--file', counter, '--note', 'key leaked']);
    assert.equal(BigInt(d.releaseHeight as string), BigInt(shown.releaseHeight as string) + 120n);
    const human = (await run([...n, 'penalties', 'show', '1'])).stdout;
    assert.match(human, /status: +disputed at height \d+: burns at the end of block \d+ unless governance reverses it/);
    assert.match(human, /note: key leaked/);

    const help = (await run(['penalties', '--help'])).stdout;
    for (const c of ['list', 'show', 'faults', 'evidence', 'dispute']) assert.match(help, new RegExp(`\\b${c}\\b`));
    const missing = await cli([...n, 'penalties', 'show', '99'], { home });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no slash 99/);
  } finally {
    await node?.stop();
    dir.cleanup();
  }
});
