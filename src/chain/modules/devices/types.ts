/**
 * devices: the value types (codecs) of devices and makers, the capability bounds per kind, the
 * H3 cell codec and the exact bytes makers and devices sign. Shared by the state machine, the
 * SDK and the CLI, so what a manufacturer signs off-chain is what the chain verifies.
 */
import { concat, toHex, utf8, type Bytes } from '../../../core/bytes.js';
import { encode, option, string, struct, u32, u64, type Codec, type Infer, enumOf } from '../../../core/codec.js';
import { CodecError, InvalidInputError } from '../../../core/errors.js';
import { address, pubKey } from '../../../core/keys.js';

export const DEVICE_KINDS = ['storage', 'compute', 'hotspot', 'sensor'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const DEVICE_STATUSES = ['active', 'warned', 'jailed', 'retired'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** A value for an error message (no JSON.stringify in chain code). */
function show(v: unknown): string {
  return typeof v === 'string' ? `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"` : typeof v;
}

/** A string enum: one byte (the value's index) in binary, the name in JSON. */

export const deviceKindCodec = enumOf('DeviceKind', DEVICE_KINDS);
export const deviceStatusCodec = enumOf('DeviceStatus', DEVICE_STATUSES);

export function isDeviceKind(s: string): s is DeviceKind {
  return (DEVICE_KINDS as readonly string[]).includes(s);
}

// ---------------------------------------------------------------------------------------------
// H3 cells

const CELL_RE = /^[1-9a-f][0-9a-f]{0,15}$/;

/** An H3 index as a bigint, from its canonical string (lowercase hex, no leading zeros). */
export function cellToBigint(cell: string): bigint {
  if (!CELL_RE.test(cell)) throw new CodecError(`"${cell}" is not an H3 index (lowercase hex, at most 16 digits, no leading zeros)`);
  return BigInt(`0x${cell}`);
}

export function cellFromBigint(v: bigint): string {
  return v.toString(16);
}

/**
 * An H3 index: a u64 in binary (state and txs), its canonical h3 string in memory and in JSON
 * ("8a2a1072b59ffff"). Whether it is a valid *cell* is the handler's check (with a precise
 * error), not the codec's.
 */
export const cellCodec: Codec<string, string> = {
  name: 'h3cell',
  write(w, v) {
    w.u64(cellToBigint(v));
  },
  read(r) {
    const v = r.u64('h3cell');
    if (v === 0n) throw new CodecError('h3cell: 0 is not an H3 index');
    return cellFromBigint(v);
  },
  toJSON: (v) => v,
  fromJSON(j, path = '') {
    const s = typeof j === 'string' ? j.toLowerCase().replace(/^0x/, '') : '';
    if (!CELL_RE.test(s)) {
      throw new InvalidInputError('INVALID_FIELD', `${path || 'cell'}: expected an H3 cell index like "8a2a1072b59ffff", got ${show(j)}`);
    }
    return s;
  },
};

// ---------------------------------------------------------------------------------------------
// Capabilities

export const capabilitiesCodec = struct('Capabilities', {
  capacityBytes: u64,
  cpuCores: u32,
  memoryBytes: u64,
  gpuModel: string(64, 'gpu model'),
  gpuCount: u32,
  bandwidthMbps: u32,
});
export type Capabilities = Infer<typeof capabilitiesCodec>;

export const NO_CAPABILITIES: Capabilities = Object.freeze({ capacityBytes: 0n, cpuCores: 0, memoryBytes: 0n, gpuModel: '', gpuCount: 0, bandwidthMbps: 0 });

const KiB = 1024n;
const MiB = KiB * 1024n;
const GiB = MiB * 1024n;
const TiB = GiB * 1024n;
const EiB = TiB * 1024n * 1024n;

interface Bounds {
  capacityBytes: readonly [bigint, bigint];
  cpuCores: readonly [number, number];
  memoryBytes: readonly [bigint, bigint];
  gpuCount: readonly [number, number];
  bandwidthMbps: readonly [number, number];
}

/**
 * Sanity bounds per kind (inclusive). They keep claims plausible — a storage node claims its
 * capacity, a compute node its CPUs, memory and GPUs — and refuse absurd ones (a sensor with a
 * petabyte). Claims are what a device offers; the verifiers check what it delivers.
 */
export const CAPABILITY_BOUNDS: Readonly<Record<DeviceKind, Bounds>> = {
  storage: { capacityBytes: [GiB, EiB], cpuCores: [0, 4096], memoryBytes: [0n, 64n * TiB], gpuCount: [0, 0], bandwidthMbps: [1, 1_000_000] },
  compute: { capacityBytes: [0n, EiB], cpuCores: [1, 4096], memoryBytes: [512n * MiB, 64n * TiB], gpuCount: [0, 64], bandwidthMbps: [1, 1_000_000] },
  hotspot: { capacityBytes: [0n, TiB], cpuCores: [0, 256], memoryBytes: [0n, TiB], gpuCount: [0, 0], bandwidthMbps: [0, 100_000] },
  sensor: { capacityBytes: [0n, TiB], cpuCores: [0, 256], memoryBytes: [0n, TiB], gpuCount: [0, 0], bandwidthMbps: [0, 100_000] },
};

const GPU_MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9 ._+()/-]{0,63}$/;

/** Why `c` is out of bounds for `kind`, or undefined when it is fine. */
export function capabilitiesProblem(kind: DeviceKind, c: Capabilities): string | undefined {
  const b = CAPABILITY_BOUNDS[kind];
  const range = (field: keyof Bounds, v: bigint | number): string | undefined => {
    const [lo, hi] = b[field];
    return v < lo || v > hi ? `${field} of a ${kind} device must be between ${lo} and ${hi}, got ${v}` : undefined;
  };
  const p =
    range('capacityBytes', c.capacityBytes) ??
    range('cpuCores', c.cpuCores) ??
    range('memoryBytes', c.memoryBytes) ??
    range('gpuCount', c.gpuCount) ??
    range('bandwidthMbps', c.bandwidthMbps);
  if (p) return p;
  if (c.gpuCount === 0 && c.gpuModel !== '') return 'gpuModel is given but gpuCount is 0';
  if (c.gpuCount > 0 && !GPU_MODEL_RE.test(c.gpuModel)) {
    return `gpuModel must be 1-64 characters of letters, digits, space and ._+()/- when gpuCount > 0, got ${show(c.gpuModel)}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// What makers and devices sign

export const MAKER_SIGN_DOMAIN = utf8('groundwork/devices/maker-approval/v1\n');
export const DEVICE_SIGN_DOMAIN = utf8('groundwork/devices/owner-consent/v1\n');

const makerSignCodec = struct('MakerSignBody', { chainId: string(64), kind: string(16), device: pubKey });
const deviceSignCodec = struct('DeviceSignBody', { chainId: string(64), owner: address });

/**
 * What a maker signs to vouch for a device: the domain, then the canonical encoding of (chain
 * id, kind, device key). Bound to the chain and the kind, so it is good for one onboarding of
 * that device as that kind on that chain only.
 */
export function makerSignBytes(chainId: string, kind: DeviceKind, device: Bytes): Bytes {
  return concat(MAKER_SIGN_DOMAIN, encode(makerSignCodec, { chainId, kind, device }));
}

/**
 * What a device signs to consent to its owner: the domain, then (chain id, owner address). Only
 * who holds the device key can produce it, so nobody can onboard a device they do not hold.
 */
export function deviceSignBytes(chainId: string, owner: Bytes): Bytes {
  return concat(DEVICE_SIGN_DOMAIN, encode(deviceSignCodec, { chainId, owner }));
}

// ---------------------------------------------------------------------------------------------
// Stored records

export const deviceRecordCodec = struct('DeviceRecord', {
  owner: address,
  kind: deviceKindCodec,
  maker: string(64, 'maker'),
  capabilities: capabilitiesCodec,
  /** The asserted H3 cell (null until the first assertion). */
  location: option(cellCodec),
  locationHeight: u64,
  /** How many times a location was asserted (the first one is included in the onboarding fee). */
  locationAssertions: u32,
  status: deviceStatusCodec,
  statusReason: string(128, 'status reason'),
  statusHeight: u64,
  /** While jailed: the first height at which the owner may unjail. */
  jailedUntil: u64,
  onboardedHeight: u64,
});
export type DeviceRecord = Infer<typeof deviceRecordCodec>;

/** A device as other modules see it: its id (the device public key) and its record. */
export interface Device extends DeviceRecord {
  readonly id: Bytes;
}

export const makerRecordCodec = struct('MakerRecord', {
  pubKey,
  approvedHeight: u64,
  /** Set when governance revoked the maker: its devices stay, it onboards no new ones. */
  revokedHeight: option(u64),
  /** Devices onboarded with this maker's signature (ever). */
  devices: u64,
});
export type MakerRecord = Infer<typeof makerRecordCodec>;

export interface Maker extends MakerRecord {
  readonly name: string;
}

export const MAKER_NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** JSON views (bigints as strings, bytes as hex, addresses bech32) for queries and the CLI. */
export function deviceJSON(d: Device): Record<string, unknown> {
  const { id, ...rec } = d;
  return { id: toHex(id), ...deviceRecordCodec.toJSON(rec) };
}

export function makerJSON(m: Maker): Record<string, unknown> {
  const { name, ...rec } = m;
  return { name, ...makerRecordCodec.toJSON(rec) };
}
