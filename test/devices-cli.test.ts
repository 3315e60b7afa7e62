/**
 * The device owner's flow with real processes: a maker in genesis, DC for the owner, then
 * `device keygen`, `maker sign`, `device onboard`, `device show` (proof-verified),
 * `assert-location` from coordinates, `list`, `transfer`, `retire` — and the errors a user
 * meets on the way (wrong kind, duplicate, bad cell, not the owner).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { latLngToCell } from 'h3-js';
import { cliIn, startMakerChain, tempDir, type NodeProcess } from '../src/testkit/index.js';

test('device CLI: keygen, maker sign, onboard, show, locate, list, transfer, retire', { timeout: 180_000 }, async () => {
  const dir = tempDir('gw-devices-');
  const home = dir.path;
  let node: NodeProcess | undefined;
  const { run, json } = cliIn(home);
  try {
    const chain = await startMakerChain(home, { chainId: 'devices-e2e', owner: 'alice', other: 'bob', funds: '100gw' });
    node = chain.node;
    const { n, owner: alice } = chain;

    const keyFile = join(home, 'device.json');
    const id = (await json(['device', 'keygen', 'd1', '--out', keyFile])).publicKey as string;
    assert.match(id, /^[0-9a-f]{64}$/);
    await run(['device', 'keygen', 'd1', '--out', keyFile], false); // never overwritten
    const sig = (await run(['maker', 'sign', 'acme', id, '--kind', 'storage'])).stdout.trim();
    assert.match(sig, /^[0-9a-f]{128}$/);

    const onboard = ['device', 'onboard', 'alice', '--device-key', keyFile, '--maker', 'acme', '--maker-signature', sig];
    const wrongKind = await run([...n, ...onboard, '--kind', 'hotspot'], false);
    assert.match(wrongKind.stderr, /did not sign device .* as a hotspot/);
    const tx = await json([...n, ...onboard, '--kind', 'storage', '--capacity', '4TiB', '--memory', '16GiB', '--cpu', '4', '--bandwidth', '1Gbps']);
    assert.equal(tx.status, 'committed');
    const dup = await run([...n, ...onboard, '--kind', 'storage', '--capacity', '4TiB', '--bandwidth', '1000'], false);
    assert.match(dup.stderr, /already onboarded/);

    const shown = await json([...n, 'device', 'show', id]);
    assert.equal(shown.owner, alice);
    assert.equal(shown.kind, 'storage');
    assert.equal(shown.verified, true);
    assert.deepEqual(shown.capabilities, { capacityBytes: String(4n << 40n), cpuCores: 4, memoryBytes: String(16n << 30n), gpuModel: '', gpuCount: 0, bandwidthMbps: 1000 });
    const human = (await run([...n, 'device', 'show', id])).stdout;
    assert.match(human, /capacity 4 TiB/);

    const bad = await run([...n, 'device', 'assert-location', 'alice', id, '8a1fb4662557ffe'], false);
    assert.match(bad.stderr, /not a valid H3 cell/);
    const coarse = await run([...n, 'device', 'assert-location', 'alice', id, '--lat', '48.8566', '--lng', '2.3522', '--res', '6'], false);
    assert.match(coarse.stderr, /resolution 6/);
    await run([...n, 'device', 'assert-location', 'alice', id, '--lat', '48.8566', '--lng', '2.3522', '--res', '10']);
    assert.equal((await json([...n, 'device', 'show', id])).location, latLngToCell(48.8566, 2.3522, 10));

    const list = await json([...n, 'device', 'list', '--owner', 'alice']);
    assert.equal(list.count, '1');
    assert.deepEqual((list.devices as Array<{ id: string }>).map((d) => d.id), [id]);
    const makers = (await json([...n, 'maker', 'list'])) as unknown as Array<{ name: string; devices: string }>;
    assert.deepEqual(makers.map((m) => [m.name, m.devices]), [['acme', '1']]);

    const notOwner = await run([...n, 'device', 'retire', 'bob', id], false);
    assert.match(notOwner.stderr, /only its owner/);
    await run([...n, 'device', 'transfer', 'alice', id, 'bob']);
    await run([...n, 'device', 'retire', 'bob', id]);
    const retired = await json([...n, 'device', 'show', id]);
    assert.equal(retired.status, 'retired');
    assert.equal((await json([...n, 'device', 'list', '--owner', 'bob'])).count, '0');
    const again = await run([...n, 'device', 'transfer', 'bob', id, 'alice'], false);
    assert.match(again.stderr, /retired/);
    const missing = await run([...n, 'device', 'show', '00'.repeat(32)], false);
    assert.match(missing.stderr, /no device/);
  } finally {
    await node?.kill9();
    dir.cleanup();
  }
});
