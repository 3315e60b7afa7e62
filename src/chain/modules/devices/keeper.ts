/**
 * devices keeper: makers (approved by governance) and devices (onboarded by their owners with
 * the maker's and the device's signatures), their owner index, locations and status.
 *
 * Status machine (each arrow names who moves it):
 *
 *   active ──penalties──▶ warned ──penalties──▶ active
 *   active | warned ──penalties──▶ jailed ──owner unjail (after jailBlocks) | penalties──▶ active
 *   active | warned | jailed ──owner retire──▶ retired   (final: no status, location or owner change)
 *
 * Setting the status a device already has is a no-op, except jailed → jailed, which restarts
 * the jail period. Everything else (jailed → warned, anything out of retired) is refused.
 */
import { copyBytes, equals, toHex, utf8, type Bytes } from '../../../core/bytes.js';
import { decode, encode, u64, u8 } from '../../../core/codec.js';
import { encodeAddress, verifySignature } from '../../../core/keys.js';
import type { KVReader, KVStore } from '../../../state/overlay.js';
import { getResolution, isValidCell } from 'h3-js';
import type { Context } from '../../context.js';
import { prefixEnd } from '../../keys.js';
import { getParams } from '../../module.js';
import { DevicesErrors } from './errors.js';
import type { CreditsSpender, StakeLookup } from './expected.js';
import {
  DEVICE_OWNER_PREFIX,
  DEVICE_PREFIX,
  MAKER_PREFIX,
  deviceCountKeyS,
  deviceKeyS,
  deviceOwnerKey,
  deviceOwnerPrefix,
  makerKey,
} from './keys.js';
import { devicesParams } from './params.js';
import {
  DEVICE_KINDS,
  MAKER_NAME_RE,
  capabilitiesProblem,
  cellToBigint,
  deviceRecordCodec,
  deviceSignBytes,
  makerRecordCodec,
  makerSignBytes,
  type Capabilities,
  type Device,
  type DeviceKind,
  type DeviceStatus,
  type Maker,
} from './types.js';

export type { Device, Maker, DeviceKind, DeviceStatus, Capabilities } from './types.js';

/** What devices needs from other modules (see expected.ts). */
export interface DevicesDeps {
  readonly credits: CreditsSpender;
  readonly stake: StakeLookup;
}

// ---------------------------------------------------------------------------------------------
// Makers

export function getMaker(store: KVReader, name: string): Maker | undefined {
  if (!MAKER_NAME_RE.test(name)) return undefined;
  const b = store.get(makerKey(name));
  return b ? { name, ...decode(makerRecordCodec, b) } : undefined;
}

/** Every maker ever approved (revoked ones too), by name. */
export function listMakers(store: KVReader): Maker[] {
  const out: Maker[] = [];
  for (const [k, v] of store.iterate(MAKER_PREFIX, prefixEnd(MAKER_PREFIX))) {
    out.push({ name: Buffer.from(k.subarray(MAKER_PREFIX.length)).toString('latin1'), ...decode(makerRecordCodec, v) });
  }
  return out;
}

function putMaker(store: KVStore, m: Maker): void {
  const { name, ...rec } = m;
  store.set(makerKey(name), encode(makerRecordCodec, rec));
}

/**
 * Approves a maker (called by governance, and for the genesis makers). A revoked name may be
 * approved again (with the same or a new key); an approved one may not, and two approved makers
 * never share a key.
 */
export function approveMaker(ctx: Context, m: { name: string; pubKey: Bytes }): void {
  if (!MAKER_NAME_RE.test(m.name)) throw DevicesErrors.INVALID_MAKER_NAME(`"${m.name}" is not a valid maker name: use 1-64 characters of a-z, 0-9 and "-", starting with a letter or digit`);
  if (m.pubKey.length !== 32) throw DevicesErrors.INVALID_MAKER_NAME(`the key of maker "${m.name}" must be a 32-byte Ed25519 public key`);
  const existing = getMaker(ctx.store, m.name);
  if (existing && existing.revokedHeight === null) throw DevicesErrors.MAKER_EXISTS(`maker "${m.name}" is already approved (since height ${existing.approvedHeight})`);
  const clash = listMakers(ctx.store).find((o) => o.revokedHeight === null && equals(o.pubKey, m.pubKey));
  if (clash) throw DevicesErrors.MAKER_KEY_IN_USE(`maker "${clash.name}" already uses key ${toHex(m.pubKey)}`);
  const height = ctx.block.height;
  putMaker(ctx.store, { name: m.name, pubKey: copyBytes(m.pubKey), approvedHeight: height, revokedHeight: null, devices: existing?.devices ?? 0n });
  ctx.emit('devices.maker_approved', () => ({ maker: m.name, pubKey: toHex(m.pubKey) }));
}

/** Revokes a maker (called by governance): its devices stay, it can onboard no new ones. */
export function revokeMaker(ctx: Context, name: string): void {
  const m = getMaker(ctx.store, name);
  if (!m) throw DevicesErrors.MAKER_NOT_FOUND(`no maker named "${name}"`);
  if (m.revokedHeight !== null) throw DevicesErrors.MAKER_REVOKED(`maker "${name}" was already revoked at height ${m.revokedHeight}`);
  putMaker(ctx.store, { ...m, revokedHeight: ctx.block.height });
  ctx.emit('devices.maker_revoked', () => ({ maker: name }));
}

// ---------------------------------------------------------------------------------------------
// Devices: reads

export function getDevice(store: KVReader, id: Bytes): Device | undefined {
  if (id.length !== 32) return undefined;
  const b = store.get(deviceKeyS(id));
  return b ? { id: copyBytes(id), ...decode(deviceRecordCodec, b) } : undefined;
}

function putDevice(store: KVStore, d: Device): void {
  const { id, ...rec } = d;
  store.set(deviceKeyS(id), encode(deviceRecordCodec, rec, 256));
}

/** How many devices `owner` holds that are not retired. */
export function deviceCountOf(store: KVReader, owner: Bytes): bigint {
  const b = store.get(deviceCountKeyS(owner));
  return b ? decode(u64, b) : 0n;
}

function setDeviceCount(store: KVStore, owner: Bytes, n: bigint): void {
  if (n === 0n) store.delete(deviceCountKeyS(owner));
  else store.set(deviceCountKeyS(owner), encode(u64, n));
}

/**
 * The devices of `owner` (retired ones too), in device-key order: up to `limit`, starting
 * after the device key `after` (exclusive) when given.
 */
export function devicesOf(store: KVReader, owner: Bytes, opts: { after?: Bytes; limit?: number } = {}): Device[] {
  const prefix = deviceOwnerPrefix(owner);
  const start = opts.after ? Buffer.concat([deviceOwnerKey(owner, opts.after), Buffer.from([0])]) : prefix;
  const limit = opts.limit ?? Number.MAX_SAFE_INTEGER;
  const out: Device[] = [];
  for (const [k] of store.iterate(start, prefixEnd(prefix))) {
    if (out.length >= limit) break;
    const d = getDevice(store, k.subarray(DEVICE_OWNER_PREFIX.length + owner.length));
    if (d) out.push(d);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Devices: changes

function checkStake(ctx: Context, deps: DevicesDeps, owner: Bytes, minStakePerDevice: bigint): void {
  if (minStakePerDevice === 0n) return;
  const devices = deviceCountOf(ctx.store, owner) + 1n;
  const needed = minStakePerDevice * devices;
  const has = deps.stake.stakeOf(ctx.store, owner);
  if (has < needed) {
    throw DevicesErrors.INSUFFICIENT_STAKE(
      `${encodeAddress(owner)} has ${has}ugw bonded; holding ${devices} device(s) needs ${needed}ugw (devices.minStakePerDevice ${minStakePerDevice}ugw each): bond more first`,
    );
  }
}

function addToOwner(store: KVStore, owner: Bytes, id: Bytes, kind: DeviceKind): void {
  store.set(deviceOwnerKey(owner, id), encode(u8, DEVICE_KINDS.indexOf(kind)));
  setDeviceCount(store, owner, deviceCountOf(store, owner) + 1n);
}

export interface OnboardParams {
  kind: DeviceKind;
  deviceKey: Bytes;
  maker: string;
  makerSignature: Bytes;
  deviceSignature: Bytes;
  capabilities: Capabilities;
}

/** Onboards a device for `owner` (the tx sender), burning the kind's onboarding fee in DC. */
export function onboardDevice(ctx: Context, deps: DevicesDeps, owner: Bytes, m: OnboardParams): Device {
  const problem = capabilitiesProblem(m.kind, m.capabilities);
  if (problem) throw DevicesErrors.INVALID_CAPABILITIES(problem);
  if (getDevice(ctx.store, m.deviceKey)) throw DevicesErrors.DEVICE_EXISTS(`device ${toHex(m.deviceKey)} is already onboarded`);
  const maker = getMaker(ctx.store, m.maker);
  if (!maker) throw DevicesErrors.MAKER_NOT_FOUND(`no approved maker named "${m.maker}"; see "groundwork maker list"`);
  if (maker.revokedHeight !== null) throw DevicesErrors.MAKER_REVOKED(`maker "${m.maker}" was revoked at height ${maker.revokedHeight}: it can no longer onboard devices`);
  if (!verifySignature(maker.pubKey, makerSignBytes(ctx.chainId, m.kind, m.deviceKey), m.makerSignature)) {
    throw DevicesErrors.BAD_MAKER_SIGNATURE(`maker "${m.maker}" did not sign device ${toHex(m.deviceKey)} as a ${m.kind} for chain ${ctx.chainId}`);
  }
  if (!verifySignature(m.deviceKey, deviceSignBytes(ctx.chainId, owner), m.deviceSignature)) {
    throw DevicesErrors.BAD_DEVICE_SIGNATURE(`device ${toHex(m.deviceKey)} did not sign owner ${encodeAddress(owner)} for chain ${ctx.chainId}`);
  }
  const p = getParams(ctx.store, 'devices', devicesParams);
  checkStake(ctx, deps, owner, p.minStakePerDevice);
  const fee = p.onboardFeeDc[m.kind];
  if (fee > 0n) deps.credits.spendCredits(ctx, owner, fee, `devices/onboard ${m.kind}`);
  const height = ctx.block.height;
  const device: Device = {
    id: copyBytes(m.deviceKey),
    owner: copyBytes(owner),
    kind: m.kind,
    maker: m.maker,
    capabilities: m.capabilities,
    location: null,
    locationHeight: 0n,
    locationAssertions: 0,
    status: 'active',
    statusReason: 'onboarded',
    statusHeight: height,
    jailedUntil: 0n,
    onboardedHeight: height,
  };
  putDevice(ctx.store, device);
  addToOwner(ctx.store, owner, device.id, m.kind);
  putMaker(ctx.store, { ...maker, devices: maker.devices + 1n });
  ctx.emit('devices.onboard', () => ({ device: toHex(device.id), owner: encodeAddress(owner), kind: m.kind, maker: m.maker, feeDc: fee }));
  return device;
}

/** The device `id` if `sender` owns it and it is not retired (the guard of every owner message). */
const DONE: Record<OwnerAction, string> = { locate: 'located again', unjail: 'unjailed', retire: 'retired again', transfer: 'transferred' };
type OwnerAction = 'locate' | 'unjail' | 'retire' | 'transfer';

function ownedLiveDevice(ctx: Context, sender: Bytes, id: Bytes, action: OwnerAction): Device {
  const d = getDevice(ctx.store, id);
  if (!d) throw DevicesErrors.DEVICE_NOT_FOUND(`no device ${toHex(id)}; check the device key (hex)`);
  if (!equals(d.owner, sender)) throw DevicesErrors.NOT_OWNER(`device ${toHex(id)} belongs to ${encodeAddress(d.owner)}; only its owner can ${action} it`);
  if (d.status === 'retired') throw DevicesErrors.DEVICE_RETIRED(`device ${toHex(id)} was retired at height ${d.statusHeight}: it cannot be ${DONE[action]}`);
  return d;
}

/** Refuses a cell that is not a valid H3 cell or is outside the allowed resolutions. */
function checkCell(cell: string, minRes: number, maxRes: number): void {
  const v = cellToBigint(cell);
  // h3-js takes a 64-bit index as [low 32 bits, high 32 bits]; integer-only checks in its C core.
  const split: [number, number] = [Number(v & 0xffff_ffffn), Number(v >> 32n)];
  if (!isValidCell(split)) throw DevicesErrors.INVALID_CELL(`"${cell}" is not a valid H3 cell index`);
  const res = getResolution(split);
  if (res < minRes || res > maxRes) {
    throw DevicesErrors.RESOLUTION_OUT_OF_RANGE(`cell ${cell} has resolution ${res}; locations are asserted at resolutions ${minRes} to ${maxRes} (devices.minResolution..maxResolution)`);
  }
}

/**
 * Asserts the device's location (an H3 cell). The first assertion is included in the
 * onboarding fee; each later one burns devices.locationFeeDc.
 */
export function assertLocation(ctx: Context, deps: DevicesDeps, sender: Bytes, id: Bytes, cell: string): bigint {
  const d = ownedLiveDevice(ctx, sender, id, 'locate');
  const p = getParams(ctx.store, 'devices', devicesParams);
  checkCell(cell, p.minResolution, p.maxResolution);
  if (d.location === cell) throw DevicesErrors.LOCATION_UNCHANGED(`device ${toHex(id)} is already asserted at ${cell}`);
  const fee = d.locationAssertions === 0 ? 0n : p.locationFeeDc;
  if (fee > 0n) deps.credits.spendCredits(ctx, sender, fee, 'devices/assert-location');
  const height = ctx.block.height;
  putDevice(ctx.store, { ...d, location: cell, locationHeight: height, locationAssertions: d.locationAssertions + 1 });
  ctx.emit('devices.location', () => ({ device: toHex(id), owner: encodeAddress(sender), cell, feeDc: fee }));
  return fee;
}

function changeStatus(ctx: Context, d: Device, to: DeviceStatus, reason: string, jailedUntil: bigint): void {
  const from = d.status;
  putDevice(ctx.store, { ...d, status: to, statusReason: reason, statusHeight: ctx.block.height, jailedUntil });
  ctx.emit('devices.status', () => ({ device: toHex(d.id), owner: encodeAddress(d.owner), from, to, reason, ...(to === 'jailed' ? { jailedUntil } : {}) }));
}

/**
 * Moves a device between active, warned and jailed (the penalties module's entry point).
 * Jailing sets the jail period to devices.jailBlocks from now. See the table at the top.
 */
export function setDeviceStatus(ctx: Context, id: Bytes, status: 'active' | 'warned' | 'jailed', reason: string): void {
  const len = utf8(reason).length;
  if (len === 0 || len > 128) throw DevicesErrors.INVALID_REASON(`a status reason is 1-128 bytes, got ${len}`);
  const d = getDevice(ctx.store, id);
  if (!d) throw DevicesErrors.DEVICE_NOT_FOUND(`no device ${toHex(id)}`);
  if (d.status === 'retired') throw DevicesErrors.DEVICE_RETIRED(`device ${toHex(id)} is retired: its status can no longer change (asked: ${status})`);
  // Same status, same reason: nothing to record. A new reason (a second warning) is recorded,
  // keeping the height the status began at.
  if (d.status === status && status !== 'jailed') {
    if (d.statusReason !== reason) putDevice(ctx.store, { ...d, statusReason: reason });
    return;
  }
  if (d.status === 'jailed' && status === 'warned') {
    throw DevicesErrors.INVALID_TRANSITION(`device ${toHex(id)} is jailed: it can go back to active (unjail), not to warned`);
  }
  const jailedUntil = status === 'jailed' ? ctx.block.height + getParams(ctx.store, 'devices', devicesParams).jailBlocks : 0n;
  changeStatus(ctx, d, status, reason, jailedUntil);
}

/** The owner takes a jailed device back to active once its jail period is over. */
export function unjailDevice(ctx: Context, sender: Bytes, id: Bytes): void {
  const d = ownedLiveDevice(ctx, sender, id, 'unjail');
  if (d.status !== 'jailed') throw DevicesErrors.NOT_JAILED(`device ${toHex(id)} is ${d.status}, not jailed`);
  const height = ctx.block.height;
  if (height < d.jailedUntil) {
    throw DevicesErrors.JAIL_NOT_OVER(`device ${toHex(id)} is jailed until height ${d.jailedUntil} (now ${height}); unjail it then`);
  }
  changeStatus(ctx, d, 'active', 'unjailed by owner', 0n);
}

/** The owner retires a device for good (it stays listed under the owner, it no longer counts). */
export function retireDevice(ctx: Context, sender: Bytes, id: Bytes): void {
  const d = ownedLiveDevice(ctx, sender, id, 'retire');
  changeStatus(ctx, d, 'retired', 'retired by owner', 0n);
  setDeviceCount(ctx.store, sender, deviceCountOf(ctx.store, sender) - 1n);
}

/** Moves a device (and its status, location and history) to a new owner. */
export function transferDevice(ctx: Context, deps: DevicesDeps, sender: Bytes, id: Bytes, newOwner: Bytes): void {
  const d = ownedLiveDevice(ctx, sender, id, 'transfer');
  if (equals(newOwner, sender)) throw DevicesErrors.SELF_TRANSFER(`${encodeAddress(sender)} already owns device ${toHex(id)}`);
  checkStake(ctx, deps, newOwner, getParams(ctx.store, 'devices', devicesParams).minStakePerDevice);
  ctx.store.delete(deviceOwnerKey(sender, id));
  setDeviceCount(ctx.store, sender, deviceCountOf(ctx.store, sender) - 1n);
  addToOwner(ctx.store, newOwner, id, d.kind);
  putDevice(ctx.store, { ...d, owner: copyBytes(newOwner) });
  ctx.emit('devices.transfer', () => ({ device: toHex(id), sender: encodeAddress(sender), recipient: encodeAddress(newOwner) }));
}

/** Every device in device-key order, starting after `after` (exclusive) when given. */
export function* iterateDevices(store: KVReader, after?: Bytes): IterableIterator<Device> {
  const p = DEVICE_PREFIX;
  const start = after ? Buffer.concat([p, after, Buffer.from([0])]) : p;
  for (const [k, v] of store.iterate(start, prefixEnd(p))) yield { id: copyBytes(k.subarray(p.length)), ...decode(deviceRecordCodec, v) };
}

/** A page of every device, in device-key order. */
export function listDevices(store: KVReader, opts: { after?: Bytes; limit?: number } = {}): Device[] {
  const out: Device[] = [];
  const limit = opts.limit ?? Number.MAX_SAFE_INTEGER;
  for (const d of iterateDevices(store, opts.after)) {
    if (out.length >= limit) break;
    out.push(d);
  }
  return out;
}
