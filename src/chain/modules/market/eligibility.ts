/**
 * Whether a provider's device can serve an order, and if not, every reason why. The same
 * function decides bids, matching and `market order explain`, so what explain says is what
 * matching does. A reason is data (a code and a sentence), never an exception.
 */
import { cellToParent, getResolution, isValidCell } from 'h3-js';
import type { Device } from '../devices/types.js';
import { cellToBigint } from '../devices/types.js';
import type { Attribute, DeviceUsage, OrderRecord, ResourceKind } from './types.js';

export type ReasonCode =
  | 'PROVIDER_JAILED'
  | 'INSUFFICIENT_STAKE'
  | 'LOW_REPUTATION'
  | 'MISSING_ATTRIBUTE'
  | 'NO_DEVICE'
  | 'WRONG_KIND'
  | 'DEVICE_NOT_ACTIVE'
  | 'NO_LOCATION'
  | 'OUTSIDE_REGION'
  | 'INSUFFICIENT_CAPACITY'
  | 'GPU_MISMATCH';

export interface Reason {
  readonly code: ReasonCode;
  readonly message: string;
}

/** The device kind that serves each resource kind. */
export const DEVICE_KIND_FOR: Readonly<Record<ResourceKind, Device['kind']>> = { storage: 'storage', compute: 'compute', coverage: 'hotspot' };
/** The reward pool of each resource kind (rewards: 0 storage, 1 compute, 2 coverage). */
export const POOL_OF: Readonly<Record<ResourceKind, number>> = { storage: 0, compute: 1, coverage: 2 };

export const NO_USAGE: DeviceUsage = Object.freeze({ bytes: 0n, cpuCores: 0, memoryBytes: 0n, gpus: 0, leases: 0 });

export interface ProviderFacts {
  readonly attributes: readonly Attribute[];
  readonly reputationBps: bigint;
  readonly stake: bigint;
  readonly minStake: bigint;
  readonly jailed: boolean;
}

type OrderTerms = Pick<OrderRecord, 'spec' | 'region' | 'attributes' | 'minReputationBps'>;

export function providerReasons(o: OrderTerms, p: ProviderFacts): Reason[] {
  const out: Reason[] = [];
  if (p.jailed) out.push({ code: 'PROVIDER_JAILED', message: 'the provider (as a staking operator) is jailed' });
  if (p.stake < p.minStake) out.push({ code: 'INSUFFICIENT_STAKE', message: `stake bonded to the provider as an operator, ${p.stake} ugw, is below market.minProviderStake ${p.minStake} ugw` });
  if (p.reputationBps < BigInt(o.minReputationBps)) {
    out.push({ code: 'LOW_REPUTATION', message: `reputation ${fmtBps(p.reputationBps)} is below the order's minimum ${fmtBps(BigInt(o.minReputationBps))}` });
  }
  for (const want of o.attributes) {
    const have = p.attributes.find((a) => a.key === want.key);
    if (!have || have.value !== want.value) {
      out.push({ code: 'MISSING_ATTRIBUTE', message: `the order wants ${want.key}=${want.value}; the provider has ${have ? `${have.key}=${have.value}` : `no ${want.key}`}` });
    }
  }
  return out;
}

export function deviceReasons(o: OrderTerms, d: Device, usage: DeviceUsage): Reason[] {
  const out: Reason[] = [];
  const kind = o.spec.type;
  if (d.kind !== DEVICE_KIND_FOR[kind]) {
    out.push({ code: 'WRONG_KIND', message: `a ${kind} order needs a ${DEVICE_KIND_FOR[kind]} device; this one is ${d.kind}` });
    return out;
  }
  if (d.status !== 'active' && d.status !== 'warned') out.push({ code: 'DEVICE_NOT_ACTIVE', message: `the device is ${d.status} (${d.statusReason})` });
  if (o.region.length > 0) {
    if (d.location === null) out.push({ code: 'NO_LOCATION', message: 'the order has a region and the device has asserted no location' });
    else if (!o.region.some((r) => cellWithin(d.location as string, r))) {
      out.push({ code: 'OUTSIDE_REGION', message: `the device's cell ${d.location} is outside the order's region (${o.region.join(', ')})` });
    }
  }
  const c = d.capabilities;
  const short = (what: string, free: bigint | number, need: bigint | number): void => {
    out.push({ code: 'INSUFFICIENT_CAPACITY', message: `${what}: ${free} free, the order needs ${need}` });
  };
  if (o.spec.type === 'storage') {
    const free = c.capacityBytes - usage.bytes;
    if (free < o.spec.value.bytes) short('storage bytes', free, o.spec.value.bytes);
  } else if (o.spec.type === 'compute') {
    const s = o.spec.value;
    if (c.cpuCores - usage.cpuCores < s.cpuCores) short('CPU cores', c.cpuCores - usage.cpuCores, s.cpuCores);
    if (c.memoryBytes - usage.memoryBytes < s.memoryBytes) short('memory bytes', c.memoryBytes - usage.memoryBytes, s.memoryBytes);
    if (s.gpuCount > 0) {
      if (c.gpuModel.toLowerCase() !== s.gpuModel.toLowerCase()) out.push({ code: 'GPU_MISMATCH', message: `the order wants ${s.gpuModel}; the device has ${c.gpuModel || 'no GPU'}` });
      else if (c.gpuCount - usage.gpus < s.gpuCount) short('GPUs', c.gpuCount - usage.gpus, s.gpuCount);
    }
  }
  return out;
}

/** What a lease of this order takes from its device. */
export function usageOf(o: Pick<OrderRecord, 'spec'>): DeviceUsage {
  const s = o.spec;
  if (s.type === 'storage') return { bytes: s.value.bytes, cpuCores: 0, memoryBytes: 0n, gpus: 0, leases: 1 };
  if (s.type === 'compute') return { bytes: 0n, cpuCores: s.value.cpuCores, memoryBytes: s.value.memoryBytes, gpus: s.value.gpuCount, leases: 1 };
  return { ...NO_USAGE, leases: 1 };
}

export function addUsage(a: DeviceUsage, b: DeviceUsage, sign: 1 | -1): DeviceUsage {
  const n = BigInt(sign);
  return {
    bytes: a.bytes + n * b.bytes,
    cpuCores: a.cpuCores + sign * b.cpuCores,
    memoryBytes: a.memoryBytes + n * b.memoryBytes,
    gpus: a.gpus + sign * b.gpus,
    leases: a.leases + sign * b.leases,
  };
}

function split(cell: string): [number, number] {
  const v = cellToBigint(cell);
  return [Number(v & 0xffff_ffffn), Number(v >> 32n)];
}

export function isCell(cell: string): boolean {
  try {
    return isValidCell(split(cell));
  } catch {
    return false;
  }
}

/** Whether `cell` lies inside `region` (the region cell itself or one of its descendants). H3's integer ops. */
export function cellWithin(cell: string, region: string): boolean {
  const c = split(cell);
  const r = split(region);
  const rr = getResolution(r);
  if (getResolution(c) < rr) return false;
  const p = cellToParent(c, rr);
  return cellToBigint(typeof p === 'string' ? p : String(p)) === cellToBigint(region);
}

export function fmtBps(b: bigint): string {
  return `${b / 100n}.${String(b % 100n).padStart(2, '0')}%`;
}
