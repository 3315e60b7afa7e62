import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { latLngToCell, cellToParent } from 'h3-js';
import { toHex } from '../../../core/bytes.js';
import { decode, encode, string, struct } from '../../../core/codec.js';
import { encodeAddress, pubKey, type Ed25519Key } from '../../../core/keys.js';
import type { KVReader } from '../../../state/overlay.js';
import { testGenesis, testKey, type GenesisOpts } from '../../../testkit/index.js';
import { testChain } from '../../../testkit/chain.js';
import type { TxResult } from '../../app.js';
import { parseGenesis } from '../../genesis.js';
import { msg, type Module } from '../../module.js';
import { validatorLookup } from '../../validators.js';
import { authModule } from '../auth/index.js';
import { bankModule } from '../bank/index.js';
import { consensusModule } from '../consensus/index.js';
import { creditsModule } from '../credits/index.js';
import { getCredits, spendCredits } from '../credits/keeper.js';
import { epochsModule } from '../epochs/index.js';
import { devicesModule } from './index.js';
import { approveMaker, deviceCountOf, devicesOf, getDevice, getMaker, iterateDevices, listMakers, revokeMaker, setDeviceStatus } from './keeper.js';
import { deviceKey, DEVICE_PREFIX } from './keys.js';
import {
  NO_CAPABILITIES,
  capabilitiesProblem,
  cellCodec,
  deviceRecordCodec,
  deviceSignBytes,
  makerSignBytes,
  type Capabilities,
  type DeviceKind,
} from './types.js';

const CHAIN = 'test-chain';
const validator = testKey('validator');
const alice = testKey('alice');
const bob = testKey('bob');
const carol = testKey('carol');
const acme = testKey('maker-acme');
const other = testKey('maker-other');
const FEE = 20_000n;
const GiB = 1n << 30n;
const TiB = 1n << 40n;

const HOTSPOT_FEE = 4_000_000n;
const LOCATION_FEE = 500_000n;

const caps: Record<DeviceKind, Capabilities> = {
  storage: { ...NO_CAPABILITIES, capacityBytes: 4n * TiB, cpuCores: 4, memoryBytes: 8n * GiB, bandwidthMbps: 1000 },
  compute: { capacityBytes: TiB, cpuCores: 32, memoryBytes: 128n * GiB, gpuModel: 'NVIDIA H200', gpuCount: 8, bandwidthMbps: 10_000 },
  hotspot: { ...NO_CAPABILITIES, bandwidthMbps: 100 },
  sensor: NO_CAPABILITIES,
};

// Governance stands in here: a test module whose messages call the keeper's governance entry
// points (the real gov module calls the same functions when a proposal passes).
const govMsgs = {
  approve: struct('TestApproveMaker', { name: string(100), pubKey }), // wider than a name: the keeper refuses
  revoke: struct('TestRevokeMaker', { name: string(64) }),
  status: struct('TestSetStatus', { device: pubKey, status: string(16), reason: string(200) }),
};
const testGov: Module = {
  name: 'testgov',
  msgs: [
    msg('testgov/approve-maker', govMsgs.approve, (ctx, m) => approveMaker(ctx, m)),
    msg('testgov/revoke-maker', govMsgs.revoke, (ctx, m) => revokeMaker(ctx, m.name)),
    msg('testgov/set-status', govMsgs.status, (ctx, m) => setDeviceStatus(ctx, m.device, m.status as 'active' | 'warned' | 'jailed', m.reason)),
  ],
};

/** Bonded stake per address hex, for devices.minStakePerDevice (staking stands in here). */
const stake = new Map<string, bigint>();

function modules(): Module[] {
  return [
    consensusModule,
    authModule,
    bankModule({ validators: validatorLookup }),
    creditsModule(),
    devicesModule({ credits: { spendCredits }, stake: { stakeOf: (_s, owner) => stake.get(toHex(owner)) ?? 0n } }),
    testGov,
    epochsModule({ onEpochEnd: [] }),
  ] as Module[];
}

interface ChainOpts {
  credits?: Array<[Ed25519Key, bigint]>;
  makers?: Array<[string, Ed25519Key]>;
  params?: Record<string, unknown>;
}

function genesisOpts(o: ChainOpts = {}): GenesisOpts {
  return {
    validator,
    balances: [alice, bob, carol, validator].map((k) => [k, 10_000_000n]),
    app: {
      credits: { balances: (o.credits ?? [[alice, 20_000_000n]]).map(([k, amount]) => ({ address: encodeAddress(k.address), amount: amount.toString() })) },
      devices: { makers: (o.makers ?? [['acme', acme]]).map(([name, k]) => ({ name, pubKey: toHex(k.publicKey) })), ...(o.params ? { params: o.params } : {}) },
    },
  };
}

function genesisJSON(o: ChainOpts = {}): Record<string, unknown> {
  return testGenesis(genesisOpts(o));
}

async function chain(o: ChainOpts = {}) {
  const base = await testChain({ modules: modules(), fee: FEE, ...genesisOpts(o) });
  const failsIn = base.fails;
  return Object.assign(base, {
    /** A tx that must fail with `kind` of `codespace` (devices by default). */
    fails(from: Ed25519Key, type: string, value: unknown, kind: string, codespace = 'devices'): Promise<TxResult> {
      return failsIn(from, type, value, `${codespace}.${kind}`);
    },
  });
}

interface OnboardOpts {
  kind?: DeviceKind;
  maker?: string;
  makerKey?: Ed25519Key;
  makerChain?: string;
  makerKind?: DeviceKind;
  deviceChain?: string;
  consentOwner?: Ed25519Key;
  capabilities?: Capabilities;
}

function onboardMsg(owner: Ed25519Key, device: Ed25519Key, o: OnboardOpts = {}) {
  const kind = o.kind ?? 'hotspot';
  return {
    kind,
    deviceKey: device.publicKey,
    maker: o.maker ?? 'acme',
    makerSignature: (o.makerKey ?? acme).sign(makerSignBytes(o.makerChain ?? CHAIN, o.makerKind ?? kind, device.publicKey)),
    deviceSignature: device.sign(deviceSignBytes(o.deviceChain ?? CHAIN, (o.consentOwner ?? owner).address)),
    capabilities: o.capabilities ?? caps[kind],
  };
}

/** Everything the devices module keeps, plus the sender's DC: what a refused tx must not change. */
function devicesState(s: KVReader, who: Ed25519Key): string {
  const parts: string[] = [];
  const p = Buffer.from('devices/');
  for (const [k, v] of s.iterate(p, Buffer.from('devices0'))) parts.push(`${toHex(k)}=${toHex(v)}`);
  return `${parts.join(',')}|dc=${getCredits(s, who.address)}`;
}

const dev = (n: number) => testKey(`device-${n}`);

test('devices: onboarding burns the fee and records the device, its owner index and counts', async () => {
  const c = await chain();
  const d = dev(1);
  const r = await c.ok(alice, 'devices/onboard', onboardMsg(alice, d));
  const got = getDevice(c.app.state, d.publicKey);
  assert.ok(got);
  assert.equal(toHex(got.id), toHex(d.publicKey));
  assert.equal(encodeAddress(got.owner), encodeAddress(alice.address));
  assert.equal(got.kind, 'hotspot');
  assert.equal(got.maker, 'acme');
  assert.equal(got.status, 'active');
  assert.equal(got.location, null);
  assert.equal(got.onboardedHeight, 1n);
  assert.deepEqual(got.capabilities, caps.hotspot);
  assert.equal(getCredits(c.app.state, alice.address), 20_000_000n - HOTSPOT_FEE);
  assert.equal(deviceCountOf(c.app.state, alice.address), 1n);
  assert.deepEqual(devicesOf(c.app.state, alice.address).map((x) => toHex(x.id)), [toHex(d.publicKey)]);
  assert.equal(getMaker(c.app.state, 'acme')?.devices, 1n);
  const ev = r.events.find((e) => e.type === 'devices.onboard');
  assert.ok(ev);
  assert.deepEqual(Object.fromEntries(ev.attributes.map((a) => [a.key, a.value])), {
    device: toHex(d.publicKey),
    owner: encodeAddress(alice.address),
    kind: 'hotspot',
    maker: 'acme',
    feeDc: HOTSPOT_FEE.toString(),
  });
  assert.ok(r.events.some((e) => e.type === 'credits.spend'));
  // the raw key is what a client reads with a proof
  assert.ok(c.app.state.get(deviceKey(d.publicKey)));
  // every kind onboards with its own fee
  const fees = { storage: 2_000_000n, compute: 4_000_000n, sensor: 1_000_000n };
  let dc = getCredits(c.app.state, alice.address);
  let n = 2;
  for (const [kind, fee] of Object.entries(fees) as Array<[DeviceKind, bigint]>) {
    await c.ok(alice, 'devices/onboard', onboardMsg(alice, dev(n++), { kind }));
    dc -= fee;
    assert.equal(getCredits(c.app.state, alice.address), dc, kind);
  }
  assert.equal(deviceCountOf(c.app.state, alice.address), 4n);
  await c.close();
});

test('devices: maker signatures bind the maker key, the chain and the kind', async () => {
  const c = await chain({ makers: [['acme', acme], ['other', other]] });
  const before = devicesState(c.app.state, alice);
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, dev(1), { makerKey: other }), 'BAD_MAKER_SIGNATURE');
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, dev(1), { maker: 'other' }), 'BAD_MAKER_SIGNATURE');
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, dev(1), { makerKind: 'sensor' }), 'BAD_MAKER_SIGNATURE');
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, dev(1), { makerChain: 'other-chain' }), 'BAD_MAKER_SIGNATURE');
  const garbage = { ...onboardMsg(alice, dev(1)), makerSignature: new Uint8Array(64) };
  await c.fails(alice, 'devices/onboard', garbage, 'BAD_MAKER_SIGNATURE');
  // a signature for one device does not onboard another
  const stolen = { ...onboardMsg(alice, dev(2)), makerSignature: onboardMsg(alice, dev(1)).makerSignature };
  await c.fails(alice, 'devices/onboard', stolen, 'BAD_MAKER_SIGNATURE');
  assert.equal(devicesState(c.app.state, alice), before, 'refused onboardings change nothing');
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, dev(1), { maker: 'other', makerKey: other }));
  await c.close();
});

test('devices: only approved makers onboard; a revoked maker keeps its devices but onboards no more', async () => {
  const c = await chain();
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, dev(1), { maker: 'nobody', makerKey: other }), 'MAKER_NOT_FOUND');
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, dev(1), { maker: 'Not A Name' }), 'MAKER_NOT_FOUND');
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, dev(1)));
  await c.ok(validator, 'testgov/revoke-maker', { name: 'acme' });
  assert.equal(getMaker(c.app.state, 'acme')?.revokedHeight, 4n); // two refused txs, the onboarding, then this
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, dev(2)), 'MAKER_REVOKED');
  assert.equal(getDevice(c.app.state, dev(1).publicKey)?.status, 'active', 'existing device stays');
  await c.fails(validator, 'testgov/revoke-maker', { name: 'acme' }, 'MAKER_REVOKED');
  await c.fails(validator, 'testgov/revoke-maker', { name: 'ghost' }, 'MAKER_NOT_FOUND');
  // governance approvals: new maker, duplicate name, shared key, bad name, re-approval
  await c.ok(validator, 'testgov/approve-maker', { name: 'other', pubKey: other.publicKey });
  await c.fails(validator, 'testgov/approve-maker', { name: 'other', pubKey: carol.publicKey }, 'MAKER_EXISTS');
  await c.fails(validator, 'testgov/approve-maker', { name: 'third', pubKey: other.publicKey }, 'MAKER_KEY_IN_USE');
  await c.fails(validator, 'testgov/approve-maker', { name: '-bad', pubKey: carol.publicKey }, 'INVALID_MAKER_NAME');
  await c.fails(validator, 'testgov/approve-maker', { name: 'x'.repeat(65), pubKey: carol.publicKey }, 'INVALID_MAKER_NAME');
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, dev(2), { maker: 'other', makerKey: other }));
  await c.ok(validator, 'testgov/approve-maker', { name: 'acme', pubKey: acme.publicKey });
  const m = getMaker(c.app.state, 'acme');
  assert.equal(m?.revokedHeight, null);
  assert.equal(m?.devices, 1n, 're-approval keeps the count');
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, dev(3)));
  assert.deepEqual(listMakers(c.app.state).map((x) => x.name), ['acme', 'other']);
  await c.close();
});

test('devices: the device must consent to its owner (nobody onboards a device they do not hold)', async () => {
  const c = await chain({ credits: [[alice, 20_000_000n], [bob, 20_000_000n]] });
  const before = devicesState(c.app.state, bob);
  // bob replays the consent alice's device gave to alice
  await c.fails(bob, 'devices/onboard', onboardMsg(bob, dev(1), { consentOwner: alice }), 'BAD_DEVICE_SIGNATURE');
  await c.fails(bob, 'devices/onboard', { ...onboardMsg(bob, dev(1)), deviceSignature: new Uint8Array(64) }, 'BAD_DEVICE_SIGNATURE');
  await c.fails(bob, 'devices/onboard', onboardMsg(bob, dev(1), { deviceChain: 'other-chain' }), 'BAD_DEVICE_SIGNATURE');
  // signed by another key than the device's
  await c.fails(bob, 'devices/onboard', { ...onboardMsg(bob, dev(1)), deviceSignature: dev(9).sign(deviceSignBytes(CHAIN, bob.address)) }, 'BAD_DEVICE_SIGNATURE');
  assert.equal(devicesState(c.app.state, bob), before);
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, dev(1)));
  // duplicate device, by anyone
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, dev(1)), 'DEVICE_EXISTS');
  await c.fails(bob, 'devices/onboard', onboardMsg(bob, dev(1)), 'DEVICE_EXISTS');
  await c.close();
});

test('devices: without enough Data Credits onboarding fails and changes nothing', async () => {
  const c = await chain({ credits: [[alice, HOTSPOT_FEE - 1n]] });
  const before = devicesState(c.app.state, alice);
  const tx = c.tx(alice, [{ type: 'devices/onboard', value: onboardMsg(alice, dev(1)) }]);
  const check = c.app.checkTx({ bytes: tx });
  assert.equal(check.error, 'INSUFFICIENT_CREDITS', 'refused at admission already');
  c.app.resetCheckState();
  const r = (await c.block([tx])).txResults[0];
  assert.equal(`${r?.codespace}.${r?.error}`, 'credits.INSUFFICIENT_CREDITS', r?.log);
  assert.equal(devicesState(c.app.state, alice), before);
  assert.equal(getDevice(c.app.state, dev(1).publicKey), undefined);
  assert.equal(getMaker(c.app.state, 'acme')?.devices, 0n);
  // a sensor is cheaper and fits
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, dev(1), { kind: 'sensor' }));
  assert.equal(getCredits(c.app.state, alice.address), HOTSPOT_FEE - 1n - 1_000_000n);
  await c.close();
});

test('devices: capabilities are checked against the bounds of the kind', () => {
  const rows: Array<[DeviceKind, Partial<Capabilities>, string | undefined]> = [
    ['storage', {}, undefined],
    ['storage', { capacityBytes: GiB - 1n }, 'capacityBytes'],
    ['storage', { bandwidthMbps: 0 }, 'bandwidthMbps'],
    ['storage', { gpuCount: 1, gpuModel: 'RTX 4090' }, 'gpuCount'],
    ['compute', {}, undefined],
    ['compute', { cpuCores: 0 }, 'cpuCores'],
    ['compute', { memoryBytes: 1n << 20n }, 'memoryBytes'],
    ['compute', { gpuCount: 65 }, 'gpuCount'],
    ['compute', { gpuCount: 0 }, 'gpuModel is given'],
    ['compute', { gpuModel: '' }, 'gpuModel must be'],
    ['compute', { gpuModel: 'H200\n' }, 'gpuModel must be'],
    ['compute', { gpuModel: '', gpuCount: 0 }, undefined],
    ['compute', { cpuCores: 4097 }, 'cpuCores'],
    ['hotspot', {}, undefined],
    ['hotspot', { capacityBytes: 2n * TiB }, 'capacityBytes'],
    ['hotspot', { bandwidthMbps: 100_001 }, 'bandwidthMbps'],
    ['sensor', {}, undefined],
    ['sensor', { gpuCount: 1, gpuModel: 'x' }, 'gpuCount'],
  ];
  for (const [kind, patch, want] of rows) {
    const p = capabilitiesProblem(kind, { ...caps[kind], ...patch });
    if (want === undefined) assert.equal(p, undefined, `${kind} ${JSON.stringify(patch, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v))}`);
    else assert.ok(p?.includes(want), `${kind}: expected a problem with ${want}, got ${p}`);
  }
});

test('devices: out-of-bounds capabilities are refused on chain', async () => {
  const c = await chain();
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, dev(1), { kind: 'storage', capabilities: { ...caps.storage, capacityBytes: 0n } }), 'INVALID_CAPABILITIES');
  await c.close();
});

const PARIS = (res: number) => latLngToCell(48.8566, 2.3522, res);

test('devices: location assertion (first one included, then the fee), valid cells and resolutions only', async () => {
  const c = await chain({ credits: [[alice, HOTSPOT_FEE + LOCATION_FEE + 1n]] });
  const d = dev(1);
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, d));
  const at = (cell: string) => ({ device: d.publicKey, cell });
  assert.equal(getCredits(c.app.state, alice.address), LOCATION_FEE + 1n);
  const r = await c.ok(alice, 'devices/assert-location', at(PARIS(10)));
  assert.equal(getCredits(c.app.state, alice.address), LOCATION_FEE + 1n, 'the first assertion is in the onboarding fee');
  let got = getDevice(c.app.state, d.publicKey);
  assert.equal(got?.location, PARIS(10));
  assert.equal(got?.locationAssertions, 1);
  assert.equal(got?.locationHeight, 2n);
  assert.ok(r.events.some((e) => e.type === 'devices.location'));
  // stored as a u64
  const raw = decode(deviceRecordCodec, c.app.state.get(deviceKey(d.publicKey))!);
  assert.equal(raw.location, PARIS(10));
  await c.fails(alice, 'devices/assert-location', at(PARIS(10)), 'LOCATION_UNCHANGED');
  await c.fails(alice, 'devices/assert-location', at(PARIS(7)), 'RESOLUTION_OUT_OF_RANGE');
  await c.fails(alice, 'devices/assert-location', at(PARIS(13)), 'RESOLUTION_OUT_OF_RANGE');
  await c.fails(alice, 'devices/assert-location', at('8a2a1072b59fff0'), 'INVALID_CELL'); // unused digit 7 pattern / bad bits
  await c.fails(alice, 'devices/assert-location', at('1'), 'INVALID_CELL');
  await c.fails(bob, 'devices/assert-location', at(PARIS(9)), 'NOT_OWNER');
  await c.fails(alice, 'devices/assert-location', { device: dev(2).publicKey, cell: PARIS(9) }, 'DEVICE_NOT_FOUND');
  await c.ok(alice, 'devices/assert-location', at(PARIS(8)));
  assert.equal(getCredits(c.app.state, alice.address), 1n, 'the second assertion burns devices.locationFeeDc');
  await c.fails(alice, 'devices/assert-location', at(PARIS(12)), 'INSUFFICIENT_CREDITS', 'credits');
  got = getDevice(c.app.state, d.publicKey);
  assert.equal(got?.location, PARIS(8));
  assert.equal(got?.locationAssertions, 2);
  await c.close();
});

test('devices: the resolution window is a governance parameter', async () => {
  const c = await chain({ params: { minResolution: 5, maxResolution: 6 } });
  const d = dev(1);
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, d));
  await c.fails(alice, 'devices/assert-location', { device: d.publicKey, cell: PARIS(10) }, 'RESOLUTION_OUT_OF_RANGE');
  await c.ok(alice, 'devices/assert-location', { device: d.publicKey, cell: cellToParent(PARIS(10), 6) });
  await c.close();
});

test('h3 cell codec: u64 in binary, canonical h3 string in memory and JSON', () => {
  const cell = PARIS(10);
  const b = encode(cellCodec, cell);
  assert.equal(b.length, 8);
  assert.equal(toHex(b), `0${cell}`);
  assert.equal(decode(cellCodec, b), cell);
  assert.equal(cellCodec.fromJSON(cell.toUpperCase()), cell);
  assert.equal(cellCodec.fromJSON(`0x${cell}`), cell);
  for (const bad of ['', 'xyz', `0${cell}`, '1'.repeat(17), 42, null]) assert.throws(() => cellCodec.fromJSON(bad), /H3 cell/);
  assert.throws(() => decode(cellCodec, new Uint8Array(8)), /0 is not an H3 index/);
  fc.assert(
    fc.property(fc.bigInt(1n, (1n << 64n) - 1n), (v) => {
      const s = decode(cellCodec, Buffer.from(v.toString(16).padStart(16, '0'), 'hex'));
      assert.equal(BigInt(`0x${s}`), v);
      assert.equal(toHex(encode(cellCodec, s)), v.toString(16).padStart(16, '0'));
    }),
  );
});

test('devices: status transitions (penalties) follow the table', async () => {
  type S = 'active' | 'warned' | 'jailed';
  // [path of setDeviceStatus calls from a fresh device, expected result of the last one, expected status after]
  const rows: Array<[S[], string, string]> = [
    [['warned'], 'ok', 'warned'],
    [['jailed'], 'ok', 'jailed'],
    [['active'], 'ok', 'active'], // same status: a no-op
    [['warned', 'active'], 'ok', 'active'],
    [['warned', 'warned'], 'ok', 'warned'],
    [['warned', 'jailed'], 'ok', 'jailed'],
    [['jailed', 'active'], 'ok', 'active'], // a lifted penalty
    [['jailed', 'jailed'], 'ok', 'jailed'],
    [['jailed', 'warned'], 'INVALID_TRANSITION', 'jailed'],
  ];
  const c = await chain({ credits: [[alice, 100_000_000n]] });
  let n = 0;
  for (const [path, want, after] of rows) {
    const d = dev(100 + n++);
    await c.ok(alice, 'devices/onboard', onboardMsg(alice, d, { kind: 'sensor' }));
    for (let i = 0; i < path.length; i++) {
      const r = await c.run(validator, 'testgov/set-status', { device: d.publicKey, status: path[i], reason: `fault ${i}` });
      const last = i === path.length - 1;
      assert.equal(r.code === 0 ? 'ok' : r.error, last ? want : 'ok', `${path.join('→')}: ${r.log}`);
    }
    const got = getDevice(c.app.state, d.publicKey);
    assert.equal(got?.status, after, path.join('→'));
    if (after === 'jailed') assert.ok((got?.jailedUntil ?? 0n) > 0n);
    // the reason shown is the latest accepted one (a second warning is not hidden by the first)
    if (want === 'ok' && after !== 'active') assert.equal(got?.statusReason, `fault ${path.length - 1}`, path.join('→'));
  }
  // reasons are bounded; unknown devices and retired devices are refused
  const d = dev(200);
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, d, { kind: 'sensor' }));
  await c.fails(validator, 'testgov/set-status', { device: d.publicKey, status: 'warned', reason: '' }, 'INVALID_REASON');
  await c.fails(validator, 'testgov/set-status', { device: d.publicKey, status: 'warned', reason: 'x'.repeat(129) }, 'INVALID_REASON');
  await c.fails(validator, 'testgov/set-status', { device: dev(201).publicKey, status: 'warned', reason: 'r' }, 'DEVICE_NOT_FOUND');
  await c.ok(alice, 'devices/retire', { device: d.publicKey });
  for (const s of ['active', 'warned', 'jailed']) await c.fails(validator, 'testgov/set-status', { device: d.publicKey, status: s, reason: 'r' }, 'DEVICE_RETIRED');
  await c.close();
});

test('devices: a jailed device is unjailed by its owner after devices.jailBlocks', async () => {
  const c = await chain({ params: { jailBlocks: '3' } });
  const d = dev(1);
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, d)); // height 1
  await c.fails(alice, 'devices/unjail', { device: d.publicKey }, 'NOT_JAILED'); // 2
  const r = await c.ok(validator, 'testgov/set-status', { device: d.publicKey, status: 'jailed', reason: 'missed 3 beacons' }); // 3
  const ev = r.events.find((e) => e.type === 'devices.status');
  assert.equal(ev?.attributes.find((a) => a.key === 'jailedUntil')?.value, '6');
  let got = getDevice(c.app.state, d.publicKey);
  assert.equal(got?.status, 'jailed');
  assert.equal(got?.statusReason, 'missed 3 beacons');
  assert.equal(got?.jailedUntil, 6n);
  await c.fails(bob, 'devices/unjail', { device: d.publicKey }, 'NOT_OWNER'); // 4
  await c.fails(alice, 'devices/unjail', { device: d.publicKey }, 'JAIL_NOT_OVER'); // 5
  await c.ok(alice, 'devices/unjail', { device: d.publicKey }); // 6
  got = getDevice(c.app.state, d.publicKey);
  assert.equal(got?.status, 'active');
  assert.equal(got?.jailedUntil, 0n);
  await c.close();
});

test('devices: transfer moves the owner index and counts; retire is final', async () => {
  const c = await chain({ credits: [[alice, 100_000_000n]] });
  const [d1, d2] = [dev(1), dev(2)];
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, d1));
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, d2));
  await c.ok(alice, 'devices/assert-location', { device: d1.publicKey, cell: PARIS(10) });
  await c.fails(alice, 'devices/transfer', { device: d1.publicKey, newOwner: alice.address }, 'SELF_TRANSFER');
  await c.fails(bob, 'devices/transfer', { device: d1.publicKey, newOwner: bob.address }, 'NOT_OWNER');
  await c.fails(alice, 'devices/transfer', { device: dev(3).publicKey, newOwner: bob.address }, 'DEVICE_NOT_FOUND');
  const r = await c.ok(alice, 'devices/transfer', { device: d1.publicKey, newOwner: bob.address });
  assert.ok(r.events.some((e) => e.type === 'devices.transfer'));
  const got = getDevice(c.app.state, d1.publicKey);
  assert.equal(encodeAddress(got!.owner), encodeAddress(bob.address));
  assert.equal(got?.location, PARIS(10), 'history travels with the device');
  assert.equal(deviceCountOf(c.app.state, alice.address), 1n);
  assert.equal(deviceCountOf(c.app.state, bob.address), 1n);
  assert.deepEqual(devicesOf(c.app.state, alice.address).map((x) => toHex(x.id)), [toHex(d2.publicKey)]);
  assert.deepEqual(devicesOf(c.app.state, bob.address).map((x) => toHex(x.id)), [toHex(d1.publicKey)]);
  // the old owner lost control, the new one has it
  await c.fails(alice, 'devices/assert-location', { device: d1.publicKey, cell: PARIS(9) }, 'NOT_OWNER');
  await c.ok(bob, 'devices/transfer', { device: d1.publicKey, newOwner: carol.address });
  // retire: final
  await c.ok(alice, 'devices/retire', { device: d2.publicKey });
  assert.equal(getDevice(c.app.state, d2.publicKey)?.status, 'retired');
  assert.equal(deviceCountOf(c.app.state, alice.address), 0n);
  assert.equal(devicesOf(c.app.state, alice.address).length, 1, 'still listed under its last owner');
  await c.fails(alice, 'devices/retire', { device: d2.publicKey }, 'DEVICE_RETIRED');
  await c.fails(alice, 'devices/transfer', { device: d2.publicKey, newOwner: bob.address }, 'DEVICE_RETIRED');
  await c.fails(alice, 'devices/unjail', { device: d2.publicKey }, 'DEVICE_RETIRED');
  await c.fails(alice, 'devices/assert-location', { device: d2.publicKey, cell: PARIS(9) }, 'DEVICE_RETIRED');
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, d2), 'DEVICE_EXISTS');
  // a jailed device can be retired (it earns nothing either way)
  const d3 = dev(3);
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, d3));
  await c.ok(validator, 'testgov/set-status', { device: d3.publicKey, status: 'jailed', reason: 'fraud evidence' });
  await c.ok(alice, 'devices/retire', { device: d3.publicKey });
  // the counts agree with the records
  for (const k of [alice, bob, carol]) {
    const live = [...iterateDevices(c.app.state)].filter((x) => encodeAddress(x.owner) === encodeAddress(k.address) && x.status !== 'retired').length;
    assert.equal(deviceCountOf(c.app.state, k.address), BigInt(live));
  }
  await c.close();
});

test('devices: devices.minStakePerDevice needs bonded stake for each device held', async () => {
  const c = await chain({ credits: [[alice, 100_000_000n], [bob, 100_000_000n]], params: { minStakePerDevice: '1000000' } });
  stake.clear();
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, dev(1)), 'INSUFFICIENT_STAKE');
  stake.set(toHex(alice.address), 1_999_999n);
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, dev(1)));
  await c.fails(alice, 'devices/onboard', onboardMsg(alice, dev(2)), 'INSUFFICIENT_STAKE');
  await c.fails(alice, 'devices/transfer', { device: dev(1).publicKey, newOwner: bob.address }, 'INSUFFICIENT_STAKE');
  stake.set(toHex(bob.address), 1_000_000n);
  await c.ok(alice, 'devices/transfer', { device: dev(1).publicKey, newOwner: bob.address });
  await c.ok(alice, 'devices/onboard', onboardMsg(alice, dev(2)));
  stake.clear();
  await c.close();
});

test('devices: module queries (device, devices of an owner with pages, makers)', async () => {
  const c = await chain({ credits: [[alice, 100_000_000n]] });
  const ids: string[] = [];
  for (let i = 1; i <= 5; i++) {
    await c.ok(alice, 'devices/onboard', onboardMsg(alice, dev(i), { kind: 'sensor' }));
    ids.push(toHex(dev(i).publicKey));
  }
  await c.ok(alice, 'devices/assert-location', { device: dev(1).publicKey, cell: PARIS(10) });
  const q = c.app.modules.find((m) => m.name === 'devices')!.queries!;
  const one = q.device!(c.app.state, { id: ids[0]! }) as Record<string, unknown>;
  assert.equal(one.id, ids[0]);
  assert.equal(one.owner, encodeAddress(alice.address));
  assert.equal(one.kind, 'sensor');
  assert.equal(one.location, PARIS(10));
  assert.equal(one.status, 'active');
  assert.throws(() => q.device!(c.app.state, { id: toHex(dev(99).publicKey) }), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
  assert.throws(() => q.device!(c.app.state, { id: 'abcd' }), /32-byte/);
  assert.throws(() => q.device!(c.app.state, {}), /missing/);
  const sorted = [...ids].sort();
  const p1 = q.devices!(c.app.state, { owner: encodeAddress(alice.address), limit: '2' }) as { count: string; devices: Array<{ id: string }>; next: string | null };
  assert.equal(p1.count, '5');
  assert.deepEqual(p1.devices.map((x) => x.id), sorted.slice(0, 2));
  const p2 = q.devices!(c.app.state, { owner: encodeAddress(alice.address), limit: '10', after: p1.next! }) as typeof p1;
  assert.deepEqual(p2.devices.map((x) => x.id), sorted.slice(2));
  assert.equal(p2.next, null);
  assert.throws(() => q.devices!(c.app.state, { owner: encodeAddress(alice.address), limit: '0' }), /limit/);
  assert.throws(() => q.devices!(c.app.state, { owner: 'nope' }), /address/);
  const all = q.all!(c.app.state, { limit: '3' }) as { devices: Array<{ id: string }>; next: string | null };
  assert.deepEqual(all.devices.map((x) => x.id), sorted.slice(0, 3));
  const rest = q.all!(c.app.state, { after: all.next! }) as typeof all;
  assert.deepEqual(rest.devices.map((x) => x.id), sorted.slice(3));
  assert.equal(rest.next, null);
  const makers = q.makers!(c.app.state, {}) as { makers: Array<Record<string, unknown>> };
  assert.deepEqual(makers.makers, [{ name: 'acme', pubKey: toHex(acme.publicKey), approvedHeight: '0', revokedHeight: null, devices: '5' }]);
  assert.equal((q.maker!(c.app.state, { name: 'acme' }) as { name: string }).name, 'acme');
  assert.throws(() => q.maker!(c.app.state, { name: 'zzz' }), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
  assert.equal((q.params!(c.app.state, {}) as { locationFeeDc: string }).locationFeeDc, '500000');
  await c.close();
});

test('devices: genesis and parameter validation name the faulty path', () => {
  const cases: Array<[ChainOpts | Record<string, unknown>, RegExp]> = [
    [{ makers: [['Bad Name', acme]] }, /makers\[0\]\.name: "Bad Name" is not a maker name/],
    [{ makers: [['acme', acme], ['acme', other]] }, /makers\[1\]\.name: duplicate maker "acme"/],
    [{ makers: [['acme', acme], ['beta', acme]] }, /makers\[1\]\.pubKey: another maker already has key/],
    [{ params: { minResolution: 9, maxResolution: 8 } }, /devices\.minResolution \(9\) must not exceed/],
    [{ params: { maxResolution: 16 } }, /devices\.maxResolution must be at most 15/],
    [{ params: { jailBlocks: '0' } }, /devices\.jailBlocks/],
  ];
  for (const [o, re] of cases) assert.throws(() => parseGenesis(genesisJSON(o as ChainOpts), modules()), re);
  const raw = genesisJSON();
  ((raw.app as Record<string, Record<string, unknown>>).devices as Record<string, unknown>).makers = [{ name: 'acme', pubKey: 'zz' }];
  assert.throws(() => parseGenesis(raw, modules()), /makers\[0\]\.pubKey/);
  ((raw.app as Record<string, Record<string, unknown>>).devices as Record<string, unknown>).makers = [{ name: 'acme', pubKey: toHex(acme.publicKey), extra: 1 }];
  assert.throws(() => parseGenesis(raw, modules()), /unknown field "extra"/);
  // no devices section at all: defaults, no makers
  const none = genesisJSON();
  delete (none.app as Record<string, unknown>).devices;
  assert.doesNotThrow(() => parseGenesis(none, modules()));
});

test('devices: admission (checkTx) refuses what delivery refuses, and replaying blocks gives the same state', async () => {
  const a = await chain({ credits: [[alice, 100_000_000n]] });
  const b = await chain({ credits: [[alice, 100_000_000n]] });
  const txs = [
    [{ type: 'devices/onboard', value: onboardMsg(alice, dev(1)) }],
    [{ type: 'devices/assert-location', value: { device: dev(1).publicKey, cell: PARIS(11) } }],
    [{ type: 'devices/transfer', value: { device: dev(1).publicKey, newOwner: bob.address } }],
  ];
  for (const msgs of txs) {
    const ta = a.tx(alice, msgs);
    const tb = b.tx(alice, msgs);
    assert.equal(a.app.checkTx({ bytes: ta }).code, 0);
    a.app.resetCheckState();
    await a.block([ta]);
    await b.block([tb]);
    assert.equal(toHex(a.app.appHash), toHex(b.app.appHash));
  }
  const dup = a.app.checkTx({ bytes: a.tx(alice, [{ type: 'devices/onboard', value: onboardMsg(alice, dev(1)) }]) });
  assert.equal(dup.error, 'DEVICE_EXISTS');
  assert.equal([...a.app.state.iterate(DEVICE_PREFIX, undefined)].length > 0, true);
  await a.close();
  await b.close();
});

test('devices: the standard app runs the module before epochs', async () => {
  const { standardModules } = await import('../../index.js');
  const names = standardModules().map((m) => m.name);
  assert.ok(names.includes('devices'));
  assert.ok(names.indexOf('devices') < names.indexOf('epochs'));
  assert.ok(names.indexOf('credits') < names.indexOf('devices'), 'credits (DC balances at genesis) first');
});

test('property: the owner index and counts always agree with the device records', async () => {
  const people = [alice, bob, carol];
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom('onboard', 'transfer', 'retire', 'jail'), fc.nat(2), fc.nat(3), fc.nat(2)), { minLength: 1, maxLength: 12 }),
      async (ops) => {
        const c = await chain({ credits: people.map((k) => [k, 100_000_000n] as [Ed25519Key, bigint]) });
        const txs = ops.map(([op, who, d, to]) => {
          const from = people[who]!;
          const device = dev(300 + d);
          const value =
            op === 'onboard'
              ? onboardMsg(from, device, { kind: 'sensor' })
              : op === 'transfer'
                ? { device: device.publicKey, newOwner: people[to]!.address }
                : op === 'retire'
                  ? { device: device.publicKey }
                  : { device: device.publicKey, status: 'jailed', reason: 'test' };
          return c.tx(op === 'jail' ? validator : from, [{ type: op === 'jail' ? 'testgov/set-status' : `devices/${op}`, value }]);
        });
        const r = await c.block(txs);
        for (const t of r.txResults) assert.ok(t.code === 0 || t.codespace === 'devices', `${t.codespace}.${t.error} ${t.log}`);
        const records = [...iterateDevices(c.app.state)];
        for (const k of people) {
          const mine = records.filter((r) => encodeAddress(r.owner) === encodeAddress(k.address));
          assert.deepEqual(devicesOf(c.app.state, k.address).map((x) => toHex(x.id)), mine.map((x) => toHex(x.id)).sort());
          assert.equal(deviceCountOf(c.app.state, k.address), BigInt(mine.filter((r) => r.status !== 'retired').length));
        }
        assert.equal(getMaker(c.app.state, 'acme')?.devices, BigInt(records.length));
        await c.close();
      },
    ),
    { numRuns: 25 },
  );
});
