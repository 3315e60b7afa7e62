/**
 * market: the value types (codecs) of orders, bids, leases and providers, the messages, and the
 * reason codes. Shared by the state machine, the SDK, the CLI and the provider agent.
 *
 * Amounts: a price is per block per lease, in the order's denomination: `ugw` (micro-tokens) or
 * `dc` (Data Credits). An order's escrow is in the same denomination.
 */
import { bool, decode, enumOf, list, option, string, struct, u128, u16, u32, u64, u8, union, type Infer } from '../../../core/codec.js';
import { address, pubKey } from '../../../core/keys.js';
import type { Bytes } from '../../../core/bytes.js';
import { cellCodec } from '../devices/types.js';

export const RESOURCE_KINDS = ['storage', 'compute', 'coverage'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export const DENOMS = ['ugw', 'dc'] as const;
export type Denom = (typeof DENOMS)[number];
export const denomCodec = enumOf('Denom', DENOMS);

export const ORDER_STATUSES = ['open', 'active', 'closed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const LEASE_STATUSES = ['active', 'closed'] as const;
export type LeaseStatus = (typeof LEASE_STATUSES)[number];

/**
 * Why an order or a lease closed. Who may give which by hand: the customer `customer`; the
 * provider `provider-decommission` or `provider-unstable` (of its own lease). The chain gives the
 * others: `expired` (the lease ran its whole duration), `insufficient-funds` (the escrow could not
 * pay the next block), `failed-verification` (a vertical's verifier), `no-eligible-bids` (the bid
 * window closed with no bid that could win), `device-gone` (the device was jailed or retired).
 */
export const CLOSE_REASONS = [
  'customer',
  'provider-decommission',
  'provider-unstable',
  'expired',
  'insufficient-funds',
  'failed-verification',
  'no-eligible-bids',
  'device-gone',
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];
export const closeReasonCodec = enumOf('CloseReason', CLOSE_REASONS);
/** Reasons a provider may give when closing its own lease. */
export const PROVIDER_CLOSE_REASONS: readonly CloseReason[] = ['provider-decommission', 'provider-unstable'];

// ---------------------------------------------------------------------------------------------
// Resource specs (what the customer asks for, per lease)

export const storageSpecCodec = struct('StorageSpec', { bytes: u64, durationBlocks: u64 });
export const computeSpecCodec = struct('ComputeSpec', { cpuCores: u32, memoryBytes: u64, gpuModel: string(64, 'gpu model'), gpuCount: u32, durationBlocks: u64 });
export const coverageSpecCodec = struct('CoverageSpec', { volumeBytes: u64, durationBlocks: u64 });
/** The kind of an order is its spec's variant. */
export const specCodec = union('ResourceSpec', { storage: storageSpecCodec, compute: computeSpecCodec, coverage: coverageSpecCodec });
export type ResourceSpec = Infer<typeof specCodec>;

export const attributeCodec = struct('Attribute', { key: string(32, 'attribute key'), value: string(64, 'attribute value') });
export type Attribute = Infer<typeof attributeCodec>;

// ---------------------------------------------------------------------------------------------
// Messages (type: codec)

/** `market/register-provider`: the sender (an operator) registers or updates its provider record. */
export const registerProviderMsgCodec = struct('MsgRegisterProvider', {
  /** Where customers and agents reach it, e.g. "http://203.0.113.5:8700" (at most 256 bytes). */
  hostUri: string(256, 'host uri'),
  /** At most 32, distinct keys, e.g. region=eu-west, tier=datacenter. */
  attributes: list(attributeCodec, 32, 'attributes'),
});
export type MsgRegisterProvider = Infer<typeof registerProviderMsgCodec>;

/** `market/create-order`: the sender (customer) posts an order and funds its escrow. */
export const createOrderMsgCodec = struct('MsgCreateOrder', {
  spec: specCodec,
  /** Leases wanted, each on a different provider (storage shards: k + m). 1..market.maxReplicas. */
  replicas: u16,
  /** Devices must be located inside one of these H3 cells (any resolution); empty: anywhere. */
  region: list(cellCodec, 64, 'region'),
  /** Attributes the provider must have (key = value); empty: none. */
  attributes: list(attributeCodec, 16, 'attributes'),
  /** Minimum provider reputation score, basis points (0..10000). */
  minReputationBps: u32,
  /** Highest price accepted, per block per lease. */
  maxPrice: u128,
  denom: denomCodec,
  /** Escrow funded now (at least maxPrice × replicas: one block of every lease). */
  deposit: u128,
  /** Blocks bids are taken (market.minBidWindow..maxBidWindow). */
  bidWindowBlocks: u64,
});
export type MsgCreateOrder = Infer<typeof createOrderMsgCodec>;

/** `market/bid`: the sender (a registered provider) bids on an open order with one of its devices. */
export const bidMsgCodec = struct('MsgBid', { order: u64, device: pubKey, price: u128 });
export type MsgBid = Infer<typeof bidMsgCodec>;

/** `market/cancel-bid`: the provider withdraws its bid while the window is open (deposit back). */
export const cancelBidMsgCodec = struct('MsgCancelBid', { order: u64 });

/** `market/accept-bid`: the customer accepts a provider's bid before the window closes. */
export const acceptBidMsgCodec = struct('MsgAcceptBid', { order: u64, provider: address });

/** `market/close-order`: the customer closes an order (open: cancelled; active: every lease closes). */
export const closeOrderMsgCodec = struct('MsgCloseOrder', { order: u64 });

/** `market/close-lease`: the customer (reason customer) or the provider (provider reasons) closes one lease. */
export const closeLeaseMsgCodec = struct('MsgCloseLease', { lease: u64, reason: option(closeReasonCodec) });

/** `market/topup`: the customer adds to an order's escrow. */
export const topupMsgCodec = struct('MsgTopup', { order: u64, amount: u128 });

/** `market/withdraw`: the provider settles its active leases, takes its earnings (ugw) to its balance and takes back its lost bids' deposits. */
export const withdrawMsgCodec = struct('MsgWithdraw', {});

// ---------------------------------------------------------------------------------------------
// Stored records

export const providerRecordCodec = struct('ProviderRecord', {
  hostUri: string(256, 'host uri'),
  attributes: list(attributeCodec, 32, 'attributes'),
  registeredHeight: u64,
  /** Beta reputation, fixed point (REP_ONE = 1.0): evidence of success and of failure, decayed. */
  alpha: u128,
  beta: u128,
  /** Outcomes ever recorded, and the successful ones (vetting counts successes). */
  outcomes: u64,
  successes: u64,
  /** Earned in ugw, not yet withdrawn (held by the market's earnings account). */
  earnings: u128,
  /** The part of `earnings` that verified leases earned since their last verification: not withdrawable yet. */
  held: u128,
  /** Leases active now. */
  activeLeases: u32,
});
export type ProviderRecord = Infer<typeof providerRecordCodec>;

export const orderRecordCodec = struct('OrderRecord', {
  customer: address,
  spec: specCodec,
  replicas: u16,
  region: list(cellCodec, 64),
  attributes: list(attributeCodec, 16),
  minReputationBps: u32,
  maxPrice: u128,
  denom: denomCodec,
  status: enumOf('OrderStatus', ORDER_STATUSES),
  closeReason: option(closeReasonCodec),
  createdHeight: u64,
  bidWindowEnd: u64,
  closedHeight: u64,
  /** Escrow: what is left, and the totals it came from and went to (conservation: deposited = paid + refunded + escrow). */
  escrow: u128,
  deposited: u128,
  /** Paid for leases (provider share + take). */
  paid: u128,
  refunded: u128,
  /** Every active lease of the order is settled up to this height. */
  settledHeight: u64,
  /** Sum of the active leases' prices (per block). */
  rate: u128,
  activeLeases: u16,
  /** Leases ever made for it, and bids standing now. */
  leases: u16,
  bids: u16,
  /** The height at which the chain next looks at this order (window end, a lease's end, the escrow running dry); 0: none. */
  wakeHeight: u64,
});
export type OrderRecord = Infer<typeof orderRecordCodec>;

/**
 * A standing bid. `repBps` and `vetted` are the bidder's reputation and vetting when it bid: a
 * bid's rank is fixed when it is placed (matching ranks without reading every bidder back;
 * eligibility, the minimum reputation included, is re-checked for the winners).
 */
export const bidRecordCodec = struct('BidRecord', { device: pubKey, price: u128, deposit: u128, height: u64, repBps: u16, vetted: bool });
export type BidRecord = Infer<typeof bidRecordCodec>;

/** A bid's encoding is fixed-size: device 32, price 16, deposit 16, height 8, repBps 2, vetted 1. */
const BID_BYTES = 75;

function u32at(b: Bytes, i: number): number {
  return (b[i] as number) * 0x1000000 + (((b[i + 1] as number) << 16) | ((b[i + 2] as number) << 8) | (b[i + 3] as number));
}

function u64at(b: Bytes, i: number): bigint {
  const hi = u32at(b, i);
  const lo = u32at(b, i + 4);
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

function u128at(b: Bytes, i: number): bigint {
  const hi = u64at(b, i);
  const lo = u64at(b, i + 8);
  return hi === 0n ? lo : (hi << 64n) | lo;
}

/**
 * decode(bidRecordCodec, b), read at fixed offsets (matching decodes every bid of an order; the
 * generic struct decoder costs several times more). `device` is a copy: `b` may be a transient
 * view (a store scan). Anything but a valid bid goes to the codec, which throws its error.
 */
export function decodeBid(b: Bytes): BidRecord {
  if (b.length !== BID_BYTES || (b[74] as number) > 1) return decode(bidRecordCodec, b);
  return {
    device: Buffer.from(b.subarray(0, 32)),
    price: u128at(b, 32),
    deposit: u128at(b, 48),
    height: u64at(b, 64),
    repBps: ((b[72] as number) << 8) | (b[73] as number),
    vetted: b[74] === 1,
  };
}

export const leaseRecordCodec = struct('LeaseRecord', {
  order: u64,
  provider: address,
  customer: address,
  device: pubKey,
  price: u128,
  denom: denomCodec,
  kind: u8,
  startHeight: u64,
  /** Last block of the lease's duration (start + durationBlocks − 1). */
  endHeight: u64,
  status: enumOf('LeaseStatus', LEASE_STATUSES),
  closeReason: option(closeReasonCodec),
  closedHeight: u64,
  /** Paid to this lease so far (provider share + take), and the provider's share of it. */
  paid: u128,
  earned: u128,
  /** The provider's bid deposit (ugw), returned when the lease closes. */
  deposit: u128,
  /** Whether the device's resources are still reserved for it. */
  reserved: bool,
  /**
   * A vertical verifies this lease (storage proofs): what it earns is held until the vertical
   * releases it (a verified proof, a normal end) or forfeits it (failed verification: the
   * provider share goes back to the customer's escrow).
   */
  gated: bool,
  /** Earned (provider share, ugw) and held, not yet released. */
  held: u128,
});
export type LeaseRecord = Infer<typeof leaseRecordCodec>;

/** Resources committed on a device by its active leases. */
export const deviceUsageCodec = struct('DeviceUsage', { bytes: u64, cpuCores: u32, memoryBytes: u64, gpus: u32, leases: u32 });
export type DeviceUsage = Infer<typeof deviceUsageCodec>;
