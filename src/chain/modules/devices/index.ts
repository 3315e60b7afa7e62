/**
 * devices: governance-approved makers and the devices they vouch for.
 *
 * A device (storage, compute, hotspot or sensor) is identified by its own Ed25519 public key
 * (it signs its own reports). Its owner onboards it with `devices/onboard`, carrying the
 * maker's signature over (chain id, kind, device key) and the device's signature over (chain
 * id, owner address), and burns the kind's onboarding fee in Data Credits. The owner then
 * asserts its location as an H3 cell (the first assertion is in the onboarding fee, later ones
 * burn devices.locationFeeDc), transfers it, unjails it after a jail, or retires it.
 *
 * Makers change only through governance (approveMaker/revokeMaker in keeper.ts) and genesis.
 */
import { fromHex, toHex } from '../../../core/bytes.js';
import { list, string, struct, type Infer } from '../../../core/codec.js';
import { InvalidInputError } from '../../../core/errors.js';
import { address, decodeAddress, pubKey, signature } from '../../../core/keys.js';
import { getParams, msg, type Module } from '../../module.js';
import {
  approveMaker,
  assertLocation,
  deviceCountOf,
  devicesOf,
  getDevice,
  getMaker,
  listDevices,
  listMakers,
  onboardDevice,
  retireDevice,
  transferDevice,
  unjailDevice,
  type DevicesDeps,
} from './keeper.js';
import { devicesParams, type DevicesParams } from './params.js';
import { MAKER_NAME_RE, capabilitiesCodec, cellCodec, deviceJSON, deviceKindCodec, makerJSON } from './types.js';

export { devicesParams, type DevicesParams } from './params.js';
export type { DevicesDeps } from './keeper.js';

export const onboardMsgCodec = struct('MsgOnboardDevice', {
  kind: deviceKindCodec,
  deviceKey: pubKey,
  maker: string(64, 'maker'),
  makerSignature: signature,
  deviceSignature: signature,
  capabilities: capabilitiesCodec,
});
export type MsgOnboardDevice = Infer<typeof onboardMsgCodec>;

export const assertLocationMsgCodec = struct('MsgAssertLocation', { device: pubKey, cell: cellCodec });
export type MsgAssertLocation = Infer<typeof assertLocationMsgCodec>;

export const deviceMsgCodec = struct('MsgDevice', { device: pubKey });
export type MsgDevice = Infer<typeof deviceMsgCodec>;

export const transferDeviceMsgCodec = struct('MsgTransferDevice', { device: pubKey, newOwner: address });
export type MsgTransferDevice = Infer<typeof transferDeviceMsgCodec>;

export const genesisMakerCodec = struct('GenesisMaker', { name: string(64, 'maker name'), pubKey });
const genesisCodec = struct('DevicesGenesis', { makers: list(genesisMakerCodec, 10_000) });
export type DevicesGenesis = Infer<typeof genesisCodec>;

function badArg(msg: string): InvalidInputError {
  return new InvalidInputError('INVALID_ARGUMENT', msg);
}

function deviceIdArg(args: Readonly<Record<string, string>>, name = 'id'): Uint8Array {
  const s = args[name];
  if (s === undefined) throw badArg(`missing ?${name}=<device public key, 64 hex characters>`);
  const b = fromHex(s, name);
  if (b.length !== 32) throw badArg(`${name} must be a 32-byte device public key (64 hex characters), got ${b.length} bytes`);
  return b;
}

function limitArg(args: Readonly<Record<string, string>>): number {
  const s = args.limit;
  if (s === undefined) return 100;
  if (!/^[0-9]{1,4}$/.test(s) || Number(s) < 1 || Number(s) > 1000) throw badArg(`limit must be an integer from 1 to 1000, got "${s}"`);
  return Number(s);
}

export function devicesModule(deps: DevicesDeps): Module<DevicesGenesis, DevicesParams> {
  return {
    name: 'devices',
    params: devicesParams,
    indexedAttributes: ['devices.onboard.owner', 'devices.onboard.device', 'devices.transfer.sender', 'devices.transfer.recipient', 'devices.status.device'],
    msgs: [
      msg('devices/onboard', onboardMsgCodec, (ctx, m) => {
        onboardDevice(ctx, deps, ctx.sender as Uint8Array, m);
      }),
      msg('devices/assert-location', assertLocationMsgCodec, (ctx, m) => {
        assertLocation(ctx, deps, ctx.sender as Uint8Array, m.device, m.cell);
      }),
      msg('devices/unjail', deviceMsgCodec, (ctx, m) => unjailDevice(ctx, ctx.sender as Uint8Array, m.device)),
      msg('devices/retire', deviceMsgCodec, (ctx, m) => retireDevice(ctx, ctx.sender as Uint8Array, m.device)),
      msg('devices/transfer', transferDeviceMsgCodec, (ctx, m) => transferDevice(ctx, deps, ctx.sender as Uint8Array, m.device, m.newOwner)),
    ],
    genesis: {
      parse(json, path) {
        const g = genesisCodec.fromJSON({ makers: [], ...(json as object) }, path);
        const names = new Set<string>();
        const keys = new Set<string>();
        g.makers.forEach((m, i) => {
          const at = `${path}.makers[${i}]`;
          if (!MAKER_NAME_RE.test(m.name)) {
            throw new InvalidInputError('INVALID_GENESIS', `${at}.name: "${m.name}" is not a maker name (1-64 characters of a-z, 0-9 and "-", starting with a letter or digit)`);
          }
          if (names.has(m.name)) throw new InvalidInputError('INVALID_GENESIS', `${at}.name: duplicate maker "${m.name}"`);
          const k = toHex(m.pubKey);
          if (keys.has(k)) throw new InvalidInputError('INVALID_GENESIS', `${at}.pubKey: another maker already has key ${k}`);
          names.add(m.name);
          keys.add(k);
        });
        return g;
      },
      init(ctx, g) {
        for (const m of g.makers) approveMaker(ctx, m);
      },
    },
    queries: {
      /** ?id=<hex>: one device. */
      device(store, args) {
        const id = deviceIdArg(args);
        const d = getDevice(store, id);
        if (!d) throw new InvalidInputError('NOT_FOUND', `no device ${toHex(id)}`);
        return deviceJSON(d);
      },
      /** ?owner=<address>[&after=<device hex>][&limit=1..1000]: an owner's devices, by device key. */
      devices(store, args) {
        if (args.owner === undefined) throw badArg('missing ?owner=<address>');
        const owner = decodeAddress(args.owner);
        const limit = limitArg(args);
        const after = args.after === undefined ? undefined : deviceIdArg(args, 'after');
        const page = devicesOf(store, owner, { limit: limit + 1, ...(after ? { after } : {}) });
        const devices = page.slice(0, limit);
        const last = devices[devices.length - 1];
        return {
          owner: args.owner,
          count: deviceCountOf(store, owner).toString(),
          devices: devices.map(deviceJSON),
          next: page.length > limit && last ? toHex(last.id) : null,
        };
      },
      /** [?after=<device hex>][&limit=1..1000]: every device, by device key. */
      all(store, args) {
        const limit = limitArg(args);
        const after = args.after === undefined ? undefined : deviceIdArg(args, 'after');
        const page = listDevices(store, { limit: limit + 1, ...(after ? { after } : {}) });
        const devices = page.slice(0, limit);
        const last = devices[devices.length - 1];
        return { devices: devices.map(deviceJSON), next: page.length > limit && last ? toHex(last.id) : null };
      },
      /** Every maker ever approved (revokedHeight set for the revoked ones). */
      makers(store) {
        return { makers: listMakers(store).map(makerJSON) };
      },
      /** ?name=<maker>: one maker. */
      maker(store, args) {
        const name = args.name ?? '';
        const m = getMaker(store, name);
        if (!m) throw new InvalidInputError('NOT_FOUND', `no maker named "${name}"`);
        return makerJSON(m);
      },
      /** The onboarding and location fees now in force, and the status rules' parameters. */
      params(store) {
        return devicesParams.codec.toJSON(getParams(store, 'devices', devicesParams));
      },
    },
  };
}
