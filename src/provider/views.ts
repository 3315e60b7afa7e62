/**
 * The market module's JSON views as the node's API serves them (`GET /v1/q/market/...`): u64 and
 * u128 as decimal strings, device ids as lowercase hex, addresses bech32, the spec as a union
 * `{type, value}`. The agent reads only these: the fields it uses of the SDK's views (bids and
 * leases are the SDK's own), with the spec typed for the pricing strategies.
 */
import type { CloseReason, Denom, ResourceKind } from '../chain/modules/market/types.js';

export type SpecView =
  | { type: 'storage'; value: { bytes: string; durationBlocks: string } }
  | { type: 'compute'; value: { cpuCores: number; memoryBytes: string; gpuModel: string; gpuCount: number; durationBlocks: string } }
  | { type: 'coverage'; value: { volumeBytes: string; durationBlocks: string } };

export interface OrderView {
  id: string;
  customer: string;
  kind: ResourceKind;
  spec: SpecView;
  replicas: number;
  region: string[];
  attributes: Array<{ key: string; value: string }>;
  minReputationBps: number;
  maxPrice: string;
  denom: Denom;
  status: 'open' | 'active' | 'closed';
  closeReason: CloseReason | null;
  createdHeight: string;
  bidWindowEnd: string;
  bidCount: number;
  activeLeases: number;
}

/** Bids and leases: the SDK's views, as the node serves them. */
export type { BidView, LeaseView } from '../client/marketViews.js';
import type { BidView, LeaseView } from '../client/marketViews.js';

export interface ProviderView {
  address: string;
  hostUri: string;
  attributes: Array<{ key: string; value: string }>;
  registeredHeight: string;
  /** Basis points (e.g. 5000); `reputation` is the same as a percentage for people. */
  reputationBps: number;
  reputation?: string;
  vetted: boolean;
  outcomes: string;
  successes: string;
  earnings: string;
  activeLeases: number;
}

export interface ExplainEntry {
  provider: string;
  eligible: boolean;
  device: string | null;
  reasons: Array<{ code: string; message: string }>;
  bid: BidView | null;
}

/** An order with its standing bids and its leases (`order?id=`). */
export interface OrderDetail extends OrderView {
  bids: BidView[];
  leases: LeaseView[];
}

export interface ChainEvent {
  type: string;
  attributes: Record<string, string>;
}
